import type { ByteWriter } from './byte-writer.ts';
import type { Cursor } from './cursor.ts';
import { digitText } from './digit-text.ts';
import { unpackError } from './field-error.ts';
import { Iso8583Error } from './iso8583-error.ts';
import type { MtiSpec } from './message-spec.ts';

/** Writes the four MTI digits: one character each (ascii, ebcdic) or two a byte (bcd). */
export function writeMti(writer: ByteWriter, mti: string, spec: MtiSpec): void {
  if (!isFourDigits(mti)) {
    throw new Iso8583Error('ERR_ISO8583_MTI', 'cannot pack the MTI: it must be four decimal digits', {
      path: ['mti'],
    });
  }
  writer.reserve(4);
  const out = writer.bytes;
  const at = writer.offset;
  if (spec.encoding === 'bcd') {
    // Two digits a byte: '0' is 0x30, so the low nibble of each character is its digit.
    out[at] = ((mti.charCodeAt(0) & 15) << 4) | (mti.charCodeAt(1) & 15);
    out[at + 1] = ((mti.charCodeAt(2) & 15) << 4) | (mti.charCodeAt(3) & 15);
    writer.offset = at + 2;
    return;
  }
  const zero = spec.encoding === 'ebcdic' ? 0xf0 : 0x30;
  for (let i = 0; i < 4; i++) out[at + i] = zero + (mti.charCodeAt(i) - 0x30);
  writer.offset = at + 4;
}

/** Reads the MTI; anything but four decimal digits is refused. */
export function readMti(cursor: Cursor, spec: MtiSpec): string {
  const size = spec.encoding === 'bcd' ? 2 : 4;
  const start = cursor.at;
  if (cursor.end - start < size) throw unpackError(['mti'], start, 'the message ends inside the MTI');
  const bytes = cursor.bytes;
  cursor.at = start + size;
  const zero = spec.encoding === 'ebcdic' ? 0xf0 : 0x30;
  let value = 0;
  for (let i = 0; i < 4; i++) {
    const digit =
      spec.encoding === 'bcd'
        ? i % 2 === 0
          ? bytes[start + (i >> 1)]! >> 4
          : bytes[start + (i >> 1)]! & 0x0f
        : bytes[start + i]! - zero;
    if (digit < 0 || digit > 9) {
      throw unpackError(
        ['mti'],
        start + (spec.encoding === 'bcd' ? i >> 1 : i),
        'the MTI is not four digits',
      );
    }
    value = value * 10 + digit;
  }
  return digitText(value, 4); // made once for each MTI
}

function isFourDigits(mti: unknown): mti is string {
  if (typeof mti !== 'string' || mti.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const code = mti.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}
