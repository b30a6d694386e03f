import type { ByteWriter } from './byte-writer.ts';
import { asciiToEbcdic } from './character-set.ts';
import type { PrefixEncoding } from './message-spec.ts';

/** Bytes a prefix of `digits` decimal digits takes in `encoding`. */
export function prefixSize(digits: number, encoding: PrefixEncoding): number {
  if (encoding === 'ascii' || encoding === 'ebcdic') return digits;
  // BCD: two digits a byte, right-justified. Binary: one byte holds up to 99, two bytes 9999.
  return digits === 2 ? 1 : 2;
}

/** The BCD byte of each number 0-99. */
const BCD_BYTES = Uint8Array.from({ length: 100 }, (_, value) => ((value / 10) << 4) | (value % 10));

/** Writes `length` as a prefix of `digits` digits; the caller checked it fits. */
export function writePrefix(
  writer: ByteWriter,
  at: number,
  length: number,
  digits: number,
  encoding: PrefixEncoding,
): void {
  const out = writer.bytes;
  if (encoding === 'binary') {
    if (digits === 2) out[at] = length;
    else {
      out[at] = length >> 8;
      out[at + 1] = length & 0xff;
    }
    return;
  }
  if (encoding === 'bcd') {
    // Two digits a byte, right-justified: LL in one byte, LLL and LLLL in two.
    if (digits === 2) out[at] = BCD_BYTES[length]!;
    else {
      const low = length % 100;
      out[at] = BCD_BYTES[(length - low) / 100]!;
      out[at + 1] = BCD_BYTES[low]!;
    }
    return;
  }
  let rest = length;
  for (let i = digits - 1; i >= 0; i--) {
    const low = rest % 10;
    const digit = 0x30 + low;
    out[at + i] = encoding === 'ebcdic' ? asciiToEbcdic[digit]! : digit;
    rest = (rest - low) / 10; // an exact integer division, cheaper than Math.floor(rest / 10)
  }
}

/**
 * Reads a prefix of `digits` digits at `at`; the caller checked its bytes are there. Returns the
 * length, or -1 when the prefix bytes are not digits of the encoding (the caller reports where).
 */
export function readPrefix(bytes: Uint8Array, at: number, digits: number, encoding: PrefixEncoding): number {
  if (encoding === 'binary') return digits === 2 ? bytes[at]! : (bytes[at]! << 8) | bytes[at + 1]!;
  let value = 0;
  if (encoding === 'bcd') {
    const size = digits === 2 ? 1 : 2;
    // An odd digit count leaves the first nibble as a 0 pad.
    if (digits % 2 === 1 && bytes[at]! >> 4 !== 0) return -1;
    for (let i = at; i < at + size; i++) {
      const high = bytes[i]! >> 4;
      const low = bytes[i]! & 0x0f;
      if (high > 9 || low > 9) return -1;
      value = value * 100 + high * 10 + low;
    }
    return value;
  }
  const zero = encoding === 'ebcdic' ? 0xf0 : 0x30;
  for (let i = at; i < at + digits; i++) {
    const digit = bytes[i]! - zero;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}
