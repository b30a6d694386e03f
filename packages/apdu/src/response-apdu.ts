import { ApduError } from './apdu-error.ts';
import { MAX_EXTENDED_LE } from './command-apdu.ts';

/** A response APDU (ISO/IEC 7816-4 5.1): the data field, then SW1-SW2 as one 16-bit number. */
export interface ResponseApdu {
  readonly data: Uint8Array;
  readonly sw: number;
}

/** ISO/IEC 7816-4 5.1.3: SW1 is 6X (but not 60, a procedure byte) or 9X. */
export function isValidStatusWord(sw: number): boolean {
  if (!Number.isInteger(sw) || sw < 0 || sw > 0xffff) return false;
  const sw1 = sw >> 8;
  return (sw1 >= 0x61 && sw1 <= 0x6f) || (sw1 >= 0x90 && sw1 <= 0x9f);
}

export function encodeResponseApdu(response: ResponseApdu): Uint8Array {
  const data = response?.data;
  if (!(data instanceof Uint8Array) || data.length > MAX_EXTENDED_LE) {
    throw new ApduError(
      'ERR_APDU_DATA',
      `response data must be a Uint8Array of at most ${MAX_EXTENDED_LE} bytes`,
    );
  }
  if (!isValidStatusWord(response.sw)) {
    throw new ApduError('ERR_APDU_STATUS', 'status word must be 16 bits with SW1 6X (not 60) or 9X');
  }
  const out = new Uint8Array(data.length + 2);
  out.set(data, 0);
  out[data.length] = response.sw >> 8;
  out[data.length + 1] = response.sw & 0xff;
  return out;
}

/** Splits a response into data and status word; the status word must be a valid one. */
export function decodeResponseApdu(bytes: Uint8Array): ResponseApdu {
  if (!(bytes instanceof Uint8Array))
    throw new ApduError('ERR_APDU_INPUT', 'APDU input must be a Uint8Array');
  if (bytes.length < 2) {
    throw new ApduError(
      'ERR_APDU_TRUNCATED',
      `response APDU has ${bytes.length} bytes, its status word needs 2`,
      {
        offset: bytes.length,
      },
    );
  }
  const end = bytes.length - 2;
  if (end > MAX_EXTENDED_LE) {
    throw new ApduError('ERR_APDU_DATA', `response data is longer than ${MAX_EXTENDED_LE} bytes`, {
      offset: 0,
    });
  }
  const sw = (bytes[end]! << 8) | bytes[end + 1]!;
  if (!isValidStatusWord(sw)) {
    throw new ApduError('ERR_APDU_STATUS', `response APDU has an invalid SW1 at offset ${end}`, {
      offset: end,
    });
  }
  return { data: bytes.slice(0, end), sw };
}
