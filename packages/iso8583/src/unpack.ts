import { readBitmaps } from './bitmap.ts';
import { compileSpec } from './compile-spec.ts';
import { createMessage } from './create-message.ts';
import { Cursor } from './cursor.ts';
import { unpackError } from './field-error.ts';
import { Iso8583Error } from './iso8583-error.ts';
import type { FieldValue, Iso8583Message } from './iso8583-message.ts';
import type { MessageSpec } from './message-spec.ts';
import { readMti } from './mti-codec.ts';
import { unpackField } from './unpack-field.ts';

/** The bitmaps of the message being unpacked; unpacking is synchronous, so one array serves. */
const bits = new Uint8Array(24);

/**
 * Decodes one whole message as `spec` describes it. Any input gives a message or an
 * `Iso8583Error` (`ERR_ISO8583_UNPACK` with the field path and byte offset, `ERR_ISO8583_SIZE`
 * above the spec's `maxMessageSize`); bytes left after the last field are refused. Binary values
 * are views into `bytes`, so keep `bytes` unchanged while the message is in use.
 */
export function unpack(spec: MessageSpec, bytes: Uint8Array): Iso8583Message {
  const compiled = compileSpec(spec);
  if (!(bytes instanceof Uint8Array)) {
    throw new Iso8583Error('ERR_ISO8583_UNPACK', 'cannot unpack: the input must be a Uint8Array');
  }
  if (bytes.length > compiled.maxMessageSize) {
    throw new Iso8583Error(
      'ERR_ISO8583_SIZE',
      `cannot unpack: the message has ${bytes.length} bytes, more than the spec allows (${compiled.maxMessageSize})`,
    );
  }
  const cursor = new Cursor(bytes, 0, bytes.length);
  const mti = readMti(cursor, compiled.spec.mti);
  const bitmapStart = cursor.at;
  const size = readBitmaps(cursor, compiled.spec.bitmap, bits) * 8;
  const fields = new Map<number, FieldValue>();
  for (let index = 0; index < size; index++) {
    const byte = bits[index]!;
    if (byte === 0) continue;
    // From the highest set bit to the lowest: clz32 finds each one, skipping the clear bits.
    for (let rest = byte; rest !== 0; ) {
      const bit = Math.clz32(rest) - 24;
      rest &= ~(0x80 >> bit);
      const number = index * 8 + bit + 1;
      if (number === 1 || number === 65) continue; // bitmap indicators, not fields
      const field = compiled.fields[number];
      if (field === undefined) {
        throw unpackError([String(number)], bitmapStart, 'the bitmap marks a field the spec does not have');
      }
      fields.set(number, unpackField(field, cursor));
    }
  }
  if (cursor.at < cursor.end) {
    throw unpackError([], cursor.at, `${cursor.end - cursor.at} bytes are left after the last field`);
  }
  return createMessage(spec, mti, fields);
}
