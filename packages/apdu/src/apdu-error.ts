import { AmuletError } from '@amulet/bytes';

/** Every failure of the APDU codec and builders; `offset` is the byte where the problem is. */
export class ApduError extends AmuletError {}

/** The stable codes an `ApduError` carries, with what each one means. */
export const apduErrorCodes = {
  ERR_APDU_INPUT: 'the input is not a Uint8Array',
  ERR_APDU_TRUNCATED: 'a command is shorter than its 4-byte header, or a response than its status word',
  ERR_APDU_LENGTH: 'the body after the header matches none of cases 1 to 4, short or extended',
  ERR_APDU_HEADER: 'CLA, INS, P1 or P2 is not a byte',
  ERR_APDU_INS: 'INS is 6X or 9X, which ISO/IEC 7816-4 5.1.2 declares invalid',
  ERR_APDU_DATA: 'the command data field is longer than 65,535 bytes or not a Uint8Array',
  ERR_APDU_LE: 'Le is not an integer from 0 to 65,536, or over 256 for a short APDU',
  ERR_APDU_EXTENDED: 'the command needs extended length fields but they were forbidden',
  ERR_APDU_STATUS: 'a status word is not two bytes with SW1 6X (not 60) or 9X',
  ERR_APDU_PARAMETER: 'a builder argument is out of range (AID length, record, SFI, tag, reference control)',
} as const;

export type ApduErrorCode = keyof typeof apduErrorCodes;
