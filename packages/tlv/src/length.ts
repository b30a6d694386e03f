import { describePosition, TlvError } from './tlv-error.ts';

/** Long-form lengths carry at most 4 length bytes (EMV Book 3 Annex B2 allows up to 65,535). */
export const MAX_LENGTH_BYTES = 4;

/**
 * Reads one length field (EMV Book 3 Annex B2, ISO/IEC 8825-1 8.1.3), strictly:
 * - short form, b8 = 0: the length is 0..127;
 * - long form, b8 = 1: b7-b1 count the length bytes that follow, 1 to 4;
 * - '80' (the BER indefinite form) is refused: EMV data objects always state their length;
 * - a non-minimal encoding (81 05, 82 00 80) is refused, so every length has one encoding and
 *   a value cannot be smuggled past a check by spelling its length differently.
 */
export function readLength(
  bytes: Uint8Array,
  offset: number,
  end: number,
  path: readonly string[],
  maxLength: number,
): { readonly length: number; readonly next: number } {
  if (offset >= end) {
    throw new TlvError('ERR_TLV_TRUNCATED', `TLV length ${describePosition(offset, path)} is missing`, {
      offset,
      path,
    });
  }
  const first = bytes[offset]!;
  let length = first;
  let next = offset + 1;
  if (first >= 0x80) {
    const count = first & 0x7f;
    if (count === 0) {
      throw new TlvError(
        'ERR_TLV_LENGTH',
        `TLV length ${describePosition(offset, path)} uses the indefinite form, which EMV does not allow`,
        { offset, path },
      );
    }
    if (count > MAX_LENGTH_BYTES) {
      throw new TlvError(
        'ERR_TLV_LENGTH',
        `TLV length ${describePosition(offset, path)} has ${count} length bytes, more than ${MAX_LENGTH_BYTES}`,
        { offset, path },
      );
    }
    if (next + count > end) {
      throw new TlvError(
        'ERR_TLV_TRUNCATED',
        `TLV length ${describePosition(next, path)} needs ${count} length bytes, ${end - next} remain`,
        { offset: next, path },
      );
    }
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[next + i]!;
    next += count;
    const minimal = count === 1 ? length >= 0x80 : bytes[offset + 1] !== 0;
    if (!minimal) {
      throw new TlvError(
        'ERR_TLV_NON_MINIMAL_LENGTH',
        `TLV length ${describePosition(offset, path)} is not in its shortest form`,
        { offset, path },
      );
    }
  }
  if (length > maxLength) {
    throw new TlvError(
      'ERR_TLV_LENGTH',
      `TLV length ${describePosition(offset, path)} is ${length} bytes, more than the limit of ${maxLength}`,
      { offset, path },
    );
  }
  return { length, next };
}

/** Encodes a length in its shortest form (EMV Book 3 Annex B2). */
export function encodeTlvLength(length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 0xffffffff) {
    throw new TlvError('ERR_TLV_LENGTH', `TLV length ${length} cannot be encoded`);
  }
  if (length < 0x80) return Uint8Array.of(length);
  const digits: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) digits.unshift(rest % 256);
  return Uint8Array.of(0x80 | digits.length, ...digits);
}
