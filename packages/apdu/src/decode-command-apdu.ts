import { ApduError } from './apdu-error.ts';
import { type DecodedCommandApdu, isValidIns, MAX_EXTENDED_LE, MAX_SHORT_LE } from './command-apdu.ts';

/**
 * Decodes a command APDU strictly (ISO/IEC 7816-4 5.1, table 2): the bytes after the 4-byte
 * header must be exactly one of the seven body layouts (case 1; 2S, 3S, 4S; 2E, 3E, 4E), else an
 * `ApduError` with the offset of the length field that does not fit.
 */
export function decodeCommandApdu(bytes: Uint8Array): DecodedCommandApdu {
  if (!(bytes instanceof Uint8Array))
    throw new ApduError('ERR_APDU_INPUT', 'APDU input must be a Uint8Array');
  if (bytes.length < 4) {
    throw new ApduError('ERR_APDU_TRUNCATED', `command APDU has ${bytes.length} bytes, its header needs 4`, {
      offset: bytes.length,
    });
  }
  const header = { cla: bytes[0]!, ins: bytes[1]!, p1: bytes[2]!, p2: bytes[3]! };
  if (!isValidIns(header.ins))
    throw new ApduError('ERR_APDU_INS', 'INS 6X and 9X are invalid', { offset: 1 });
  const body = bytes.length - 4;
  if (body === 0) return { ...header, case: 1, extended: false };
  const b1 = bytes[4]!;
  if (body === 1) return { ...header, le: b1 === 0 ? MAX_SHORT_LE : b1, case: 2, extended: false };
  if (b1 !== 0) {
    // Short: B1 is Lc (1 to 255), then the data, then optionally one Le byte.
    const data = bytes.slice(5, 5 + b1);
    if (body === 1 + b1) return { ...header, data, case: 3, extended: false };
    if (body === 2 + b1) {
      const le = bytes[5 + b1]!;
      return { ...header, data, le: le === 0 ? MAX_SHORT_LE : le, case: 4, extended: false };
    }
    throw lengthError(`short Lc says ${b1} data bytes but the body holds ${body - 1} bytes after it`, 4);
  }
  // Extended: B1 = 00, then two bytes that are Le (case 2E) or Lc (cases 3E, 4E).
  if (body < 3) throw lengthError(`extended length field needs 3 bytes, the body has ${body}`, 4);
  const b2b3 = (bytes[5]! << 8) | bytes[6]!;
  if (body === 3) return { ...header, le: b2b3 === 0 ? MAX_EXTENDED_LE : b2b3, case: 2, extended: true };
  if (b2b3 === 0) throw lengthError('extended Lc is 0000, which no case allows', 5);
  const data = bytes.slice(7, 7 + b2b3);
  if (body === 3 + b2b3) return { ...header, data, case: 3, extended: true };
  if (body === 5 + b2b3) {
    const le = (bytes[7 + b2b3]! << 8) | bytes[8 + b2b3]!;
    return { ...header, data, le: le === 0 ? MAX_EXTENDED_LE : le, case: 4, extended: true };
  }
  throw lengthError(`extended Lc says ${b2b3} data bytes but the body holds ${body - 3} bytes after it`, 5);
}

function lengthError(message: string, offset: number): ApduError {
  return new ApduError('ERR_APDU_LENGTH', `command APDU ${message} (offset ${offset})`, { offset });
}
