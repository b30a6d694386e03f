import { ApduError } from './apdu-error.ts';
import { isValidStatusWord } from './response-apdu.ts';

export type StatusCategory = 'normal' | 'warning' | 'execution-error' | 'checking-error';

export interface StatusWordDescription {
  /** Four upper-case hex digits. */
  readonly sw: string;
  readonly meaning: string;
  readonly category: StatusCategory;
}

/**
 * Status words by name (ISO/IEC 7816-4 5.1.3 tables 5 and 6, with the ones EMV Book 3 and the
 * GlobalPlatform Card Specification give a meaning of their own).
 */
export const StatusWord = {
  SUCCESS: 0x9000,
  NO_INFORMATION: 0x6200,
  END_OF_FILE: 0x6282,
  FILE_DEACTIVATED: 0x6283,
  VERIFICATION_FAILED: 0x6300,
  MORE_DATA_AVAILABLE: 0x6310,
  NON_VOLATILE_MEMORY_UNCHANGED: 0x6400,
  NON_VOLATILE_MEMORY_CHANGED: 0x6500,
  MEMORY_FAILURE: 0x6581,
  WRONG_LENGTH: 0x6700,
  CLA_FUNCTION_NOT_SUPPORTED: 0x6800,
  LOGICAL_CHANNEL_NOT_SUPPORTED: 0x6881,
  SECURE_MESSAGING_NOT_SUPPORTED: 0x6882,
  LAST_COMMAND_OF_CHAIN_EXPECTED: 0x6883,
  COMMAND_CHAINING_NOT_SUPPORTED: 0x6884,
  COMMAND_NOT_ALLOWED: 0x6900,
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  AUTHENTICATION_METHOD_BLOCKED: 0x6983,
  REFERENCE_DATA_NOT_USABLE: 0x6984,
  CONDITIONS_OF_USE_NOT_SATISFIED: 0x6985,
  NO_CURRENT_ELEMENTARY_FILE: 0x6986,
  SECURE_MESSAGING_DATA_MISSING: 0x6987,
  SECURE_MESSAGING_DATA_INCORRECT: 0x6988,
  APPLET_SELECTION_FAILED: 0x6999,
  WRONG_DATA: 0x6a80,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  FILE_NOT_FOUND: 0x6a82,
  RECORD_NOT_FOUND: 0x6a83,
  NOT_ENOUGH_MEMORY: 0x6a84,
  INCORRECT_P1_P2: 0x6a86,
  REFERENCED_DATA_NOT_FOUND: 0x6a88,
  WRONG_P1_P2: 0x6b00,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  NO_PRECISE_DIAGNOSIS: 0x6f00,
  ALGORITHM_NOT_SUPPORTED: 0x9484,
  INVALID_KEY_CHECK_VALUE: 0x9485,
} as const;

/**
 * The table `describeStatusWord` reads. `sw` is four hex digits where X stands for any digit;
 * `{n}` in a meaning is replaced by the number those digits encode. Exact entries come first.
 */
const statusWords: readonly StatusWordDescription[] = [
  { sw: '9000', meaning: 'Command completed normally', category: 'normal' },
  { sw: '61XX', meaning: '{n} response bytes still available: send GET RESPONSE', category: 'normal' },
  { sw: '6200', meaning: 'Warning without detail; non-volatile memory unchanged', category: 'warning' },
  { sw: '6281', meaning: 'Part of the returned data may be corrupted', category: 'warning' },
  { sw: '6282', meaning: 'End of file or record reached before Ne bytes were read', category: 'warning' },
  { sw: '6283', meaning: 'Selected file or application deactivated (blocked)', category: 'warning' },
  {
    sw: '6284',
    meaning: 'File control information is not formatted per ISO/IEC 7816-4',
    category: 'warning',
  },
  { sw: '6285', meaning: 'Selected file is in the terminated state', category: 'warning' },
  { sw: '6286', meaning: 'No input data available from a sensor', category: 'warning' },
  { sw: '6300', meaning: 'Verification or authentication failed, no further detail', category: 'warning' },
  { sw: '6310', meaning: 'More data available (GlobalPlatform GET STATUS)', category: 'warning' },
  { sw: '63CX', meaning: 'Verification failed; {n} tries left', category: 'warning' },
  { sw: '6400', meaning: 'Execution error; non-volatile memory unchanged', category: 'execution-error' },
  { sw: '6500', meaning: 'Execution error; non-volatile memory changed', category: 'execution-error' },
  { sw: '6581', meaning: 'Memory failure', category: 'execution-error' },
  { sw: '6700', meaning: 'Wrong length (Lc or Le)', category: 'checking-error' },
  { sw: '6800', meaning: 'Function requested in CLA not supported', category: 'checking-error' },
  { sw: '6881', meaning: 'Logical channel not supported', category: 'checking-error' },
  { sw: '6882', meaning: 'Secure messaging not supported', category: 'checking-error' },
  { sw: '6883', meaning: 'The last command of a chain was expected', category: 'checking-error' },
  { sw: '6884', meaning: 'Command chaining not supported', category: 'checking-error' },
  { sw: '6900', meaning: 'Command not allowed', category: 'checking-error' },
  { sw: '6981', meaning: 'Command incompatible with the file structure', category: 'checking-error' },
  { sw: '6982', meaning: 'Security status not satisfied', category: 'checking-error' },
  { sw: '6983', meaning: 'Authentication method blocked (PIN tries exhausted)', category: 'checking-error' },
  { sw: '6984', meaning: 'Reference data not usable (invalidated)', category: 'checking-error' },
  { sw: '6985', meaning: 'Conditions of use not satisfied', category: 'checking-error' },
  { sw: '6986', meaning: 'Command not allowed: no current elementary file', category: 'checking-error' },
  { sw: '6987', meaning: 'Expected secure messaging data objects missing', category: 'checking-error' },
  { sw: '6988', meaning: 'Secure messaging data objects incorrect', category: 'checking-error' },
  { sw: '6999', meaning: 'Applet selection failed (GlobalPlatform)', category: 'checking-error' },
  { sw: '6A80', meaning: 'Incorrect parameters in the command data field', category: 'checking-error' },
  {
    sw: '6A81',
    meaning: 'Function not supported (EMV: card or application blocked)',
    category: 'checking-error',
  },
  { sw: '6A82', meaning: 'File or application not found', category: 'checking-error' },
  { sw: '6A83', meaning: 'Record not found', category: 'checking-error' },
  { sw: '6A84', meaning: 'Not enough memory space', category: 'checking-error' },
  { sw: '6A85', meaning: 'Nc inconsistent with the TLV structure', category: 'checking-error' },
  { sw: '6A86', meaning: 'Incorrect parameters P1-P2', category: 'checking-error' },
  { sw: '6A87', meaning: 'Nc inconsistent with parameters P1-P2', category: 'checking-error' },
  { sw: '6A88', meaning: 'Referenced data or reference data not found', category: 'checking-error' },
  { sw: '6A89', meaning: 'File already exists', category: 'checking-error' },
  { sw: '6A8A', meaning: 'DF name already exists', category: 'checking-error' },
  { sw: '6B00', meaning: 'Wrong parameters P1-P2', category: 'checking-error' },
  { sw: '6CXX', meaning: 'Wrong Le: the exact length available is {n}', category: 'checking-error' },
  { sw: '6D00', meaning: 'Instruction code not supported or invalid', category: 'checking-error' },
  { sw: '6E00', meaning: 'Class not supported', category: 'checking-error' },
  { sw: '6F00', meaning: 'No precise diagnosis', category: 'checking-error' },
  { sw: '9484', meaning: 'Algorithm not supported (GlobalPlatform)', category: 'checking-error' },
  { sw: '9485', meaning: 'Invalid key check value (GlobalPlatform)', category: 'checking-error' },
];

/** ISO/IEC 7816-4 table 5: what SW1 alone says when the table has no entry. */
function bySw1(sw1: number): Omit<StatusWordDescription, 'sw'> {
  if (sw1 === 0x62 || sw1 === 0x63) return { meaning: 'Warning', category: 'warning' };
  if (sw1 >= 0x64 && sw1 <= 0x66) return { meaning: 'Execution error', category: 'execution-error' };
  if (sw1 >= 0x67 && sw1 <= 0x6f) return { meaning: 'Checking error', category: 'checking-error' };
  return { meaning: 'Proprietary status', category: 'warning' };
}

/** The meaning and category of a status word. Throws `ApduError` unless it is a valid one. */
export function describeStatusWord(sw: number): StatusWordDescription {
  if (!isValidStatusWord(sw)) {
    throw new ApduError('ERR_APDU_STATUS', 'status word must be 16 bits with SW1 6X (not 60) or 9X');
  }
  const hex = sw.toString(16).toUpperCase().padStart(4, '0');
  for (const entry of statusWords) {
    const variable = entry.sw.indexOf('X');
    const fixed = variable < 0 ? entry.sw : entry.sw.slice(0, variable);
    if (variable < 0 ? hex !== fixed : !hex.startsWith(fixed)) continue;
    if (variable < 0) return entry;
    const n = Number.parseInt(hex.slice(variable), 16);
    // 61XX and 6CXX: XX = 00 stands for 256 bytes.
    const count = n === 0 && entry.sw.endsWith('XX') ? 256 : n;
    return { sw: hex, meaning: entry.meaning.replace('{n}', String(count)), category: entry.category };
  }
  return { sw: hex, ...bySw1(sw >> 8) };
}
