import type { ByteWriter } from './byte-writer.ts';
import type { Cursor } from './cursor.ts';
import { unpackError } from './field-error.ts';
import type { BitmapSpec } from './message-spec.ts';

const HEX = '0123456789ABCDEF';
const HEX_CODES = Uint8Array.from(HEX, (digit) => digit.charCodeAt(0));

/**
 * Writes `count` bitmaps (1, 2 or 3) from `bits`, which the caller filled for the present field
 * numbers (2-192) with bit 1 set when a secondary bitmap follows and bit 65 when a tertiary one
 * does (ISO 8583:1987 4.2).
 */
export function writeBitmaps(writer: ByteWriter, bits: Uint8Array, count: number, spec: BitmapSpec): void {
  const size = count * 8;
  if (spec.encoding === 'binary') {
    writer.reserve(size);
    const out = writer.bytes;
    const at = writer.offset;
    for (let i = 0; i < size; i++) out[at + i] = bits[i]!;
    writer.offset = at + size;
    return;
  }
  writer.reserve(size * 2);
  const out = writer.bytes;
  let at = writer.offset;
  for (let i = 0; i < size; i++) {
    const byte = bits[i]!;
    out[at++] = HEX_CODES[byte >> 4]!;
    out[at++] = HEX_CODES[byte & 15]!;
  }
  writer.offset = at;
}

/**
 * Reads the primary bitmap and any secondary and tertiary ones into `bits` (24 bytes); returns
 * how many bitmaps there were.
 */
export function readBitmaps(cursor: Cursor, spec: BitmapSpec, bits: Uint8Array): number {
  let count = 0;
  do {
    readOne(cursor, spec, bits, count * 8, count + 1);
    count++;
    // Bit 1 (primary) and bit 65 (secondary) say another bitmap follows.
  } while (count < 3 && (bits[(count - 1) * 8]! & 0x80) !== 0);
  return count;
}

const NAMES = ['primary', 'secondary', 'tertiary'];

function readOne(cursor: Cursor, spec: BitmapSpec, bits: Uint8Array, at: number, ordinal: number): void {
  const size = spec.encoding === 'binary' ? 8 : 16;
  const start = cursor.at;
  if (cursor.end - start < size) {
    throw unpackError(['bitmap'], start, `the message ends inside the ${NAMES[ordinal - 1]} bitmap`);
  }
  const bytes = cursor.bytes;
  cursor.at = start + size;
  if (size === 8) {
    for (let i = 0; i < 8; i++) bits[at + i] = bytes[start + i]!;
    return;
  }
  for (let i = 0; i < 8; i++) {
    const high = HEX_VALUES[bytes[start + 2 * i]!]!;
    const low = HEX_VALUES[bytes[start + 2 * i + 1]!]!;
    if (high < 0 || low < 0) {
      throw unpackError(
        ['bitmap'],
        start + 2 * i + (high < 0 ? 0 : 1),
        `the ${NAMES[ordinal - 1]} bitmap is not hexadecimal`,
      );
    }
    bits[at + i] = (high << 4) | low;
  }
}

/** The value of each hex digit character (either case), -1 for other bytes. */
const HEX_VALUES = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUES[HEX.charCodeAt(i)] = i;
  HEX_VALUES[HEX.toLowerCase().charCodeAt(i)] = i;
}
