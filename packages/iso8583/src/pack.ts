import { writeBitmaps } from './bitmap.ts';
import { ByteWriter } from './byte-writer.ts';
import { compileSpec } from './compile-spec.ts';
import { Iso8583Error } from './iso8583-error.ts';
import type { Iso8583Message } from './iso8583-message.ts';
import type { MessageSpec } from './message-spec.ts';
import { writeMti } from './mti-codec.ts';
import { packField } from './pack-field.ts';

/** Packing is synchronous, so one writer serves every message (see ByteWriter for its blocks). */
const writer = new ByteWriter(32768);
/** The bitmaps of the message being packed, reused the same way. */
const bits = new Uint8Array(24);
const bitWords = new Uint32Array(bits.buffer);

/**
 * Encodes a message as `spec` describes: MTI, bitmaps, then each present field in number order.
 * A value that does not fit its field throws `ERR_ISO8583_PACK` naming the field, never the value.
 */
export function pack(spec: MessageSpec, message: Iso8583Message): Uint8Array {
  const compiled = compileSpec(spec);
  if (typeof message !== 'object' || message === null || !(message.fields instanceof Map)) {
    throw new Iso8583Error('ERR_ISO8583_PACK', 'cannot pack: a message needs an mti and a Map of fields');
  }
  // The bitmaps (ISO 8583:1987 4.2) are built while the field numbers are checked; the fields
  // are then written in number order by walking the bits, with no sorted list.
  // Six 32-bit stores clear the 24 bytes: cheaper than fill() or a loop over the bytes.
  for (let i = 0; i < 6; i++) bitWords[i] = 0;
  let highest = 0;
  let ascending = true;
  for (const number of message.fields.keys()) {
    if (!Number.isInteger(number) || compiled.fields[number] === undefined) {
      throw new Iso8583Error(
        'ERR_ISO8583_FIELD',
        `cannot pack field ${String(number)}: the spec has no such field`,
        {
          path: [String(number)],
        },
      );
    }
    bits[(number - 1) >> 3]! |= 0x80 >> ((number - 1) & 7);
    if (number > highest) highest = number;
    else ascending = false;
  }
  const count = highest > 128 ? 3 : highest > 64 ? 2 : 1;
  if (count >= 2) bits[0]! |= 0x80;
  if (count === 3) bits[8]! |= 0x80;
  writer.begin();
  writeMti(writer, message.mti, compiled.spec.mti);
  writeBitmaps(writer, bits, count, compiled.spec.bitmap);
  const size = count * 8;
  // A Map holding its fields in number order, as nearly every caller builds it, gives its values
  // in the order the bits are walked: the values iterator then replaces a lookup per field.
  const values = ascending ? message.fields.values() : undefined;
  for (let index = 0; index < size; index++) {
    const byte = bits[index]!;
    if (byte === 0) continue;
    // From the highest set bit to the lowest: clz32 finds each one, skipping the clear bits.
    for (let rest = byte; rest !== 0; ) {
      const bit = Math.clz32(rest) - 24;
      rest &= ~(0x80 >> bit);
      const number = index * 8 + bit + 1;
      if (number === 1 || number === 65) continue; // bitmap indicators, not fields
      const value = values === undefined ? message.fields.get(number) : values.next().value;
      packField(compiled.fields[number]!, value!, writer);
    }
  }
  if (writer.offset > compiled.maxMessageSize) {
    throw new Iso8583Error(
      'ERR_ISO8583_SIZE',
      `cannot pack: the message would take ${writer.offset} bytes, more than the spec allows (${compiled.maxMessageSize})`,
    );
  }
  return writer.finish();
}
