import type { TlvNode } from '@amulet/tlv';
import type { ByteWriter } from './byte-writer.ts';
import type { CompiledField } from './compile-spec.ts';
import { packError } from './field-error.ts';
import type { FieldValue } from './iso8583-message.ts';
import { writePrefix } from './length-prefix.ts';
import { encodeTlvField } from './tlv-field.ts';

/**
 * Writes one field: its length prefix (LL, LLL, LLLL) when it has one, then its content in the
 * field's encoding. The prefix counts characters, digits (BCD) or bytes (binary, composite).
 */
export function packField(field: CompiledField, value: FieldValue, writer: ByteWriter): void {
  const prefixAt = writer.offset;
  if (!field.fixed) {
    writer.reserve(field.prefixSize);
    writer.offset += field.prefixSize;
  }
  const units = packContent(field, value, writer);
  if (field.fixed ? units !== field.length : units > field.length) {
    const expected = field.fixed ? `exactly ${field.length}` : `at most ${field.length}`;
    throw packError(field.path, `has ${units} ${unitName(field)}, the spec allows ${expected}`);
  }
  if (!field.fixed) writePrefix(writer, prefixAt, units, field.prefixDigits, field.prefixEncoding);
}

function unitName(field: CompiledField): string {
  if (field.kind === 'text') return 'characters';
  return field.kind === 'bcd' ? 'digits' : 'bytes';
}

/** Writes the content and returns its length in the field's units. */
function packContent(field: CompiledField, value: FieldValue, writer: ByteWriter): number {
  switch (field.kind) {
    case 'text':
      return packText(field, padded(field, textValue(field, value)), writer);
    case 'bcd':
      return packBcd(field, padded(field, textValue(field, value)), writer);
    case 'binary':
      if (!(value instanceof Uint8Array)) throw packError(field.path, 'must be a Uint8Array');
      writer.write(value);
      return value.length;
    case 'tlv':
      return packTlv(field, value, writer);
    case 'positional':
      return packPositional(field, value, writer);
  }
}

function textValue(field: CompiledField, value: FieldValue): string {
  if (typeof value !== 'string') throw packError(field.path, 'must be a string');
  return value;
}

/** A fixed field shorter than its length is padded when its spec declares a fill it may hold. */
function padded(field: CompiledField, value: string): string {
  if (!field.fixed || value.length >= field.length || field.fillCode < 0) return value;
  const fill = String.fromCharCode(field.fillCode);
  if (field.kind === 'bcd' && field.nibbles[field.fillCode - 0x30] !== 1) return value;
  return field.padLeft ? value.padStart(field.length, fill) : value.padEnd(field.length, fill);
}

function packText(field: CompiledField, value: string, writer: ByteWriter): number {
  const length = value.length;
  writer.reserve(length);
  const out = writer.bytes;
  const table = field.encodeTable;
  let at = writer.offset;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    const byte = code < 256 ? table[code]! : 0;
    if (byte === 0)
      throw packError(field.path, `character ${i + 1} is not allowed in a ${field.spec.type} field`);
    out[at++] = byte;
  }
  writer.offset = at;
  return length;
}

/** ISO 8583:1987 4.3: two digits a byte; an odd count gets one pad nibble on the padding side. */
function packBcd(field: CompiledField, value: string, writer: ByteWriter): number {
  const digits = value.length;
  writer.reserve((digits + 1) >> 1);
  const out = writer.bytes;
  let at = writer.offset;
  let i = 0;
  // The pad nibble: first when left-justified padding, last otherwise.
  if (digits % 2 === 1 && field.padLeft) {
    out[at++] = (field.fillNibble << 4) | digitNibble(field, value, 0);
    i = 1;
  }
  // Two characters a byte, looked up together and checked once (a nibble of -1 is a character
  // the field does not allow); only a bad pair is looked at again, to name the character.
  const table = field.digitNibbles;
  for (; i + 1 < digits; i += 2) {
    const first = value.charCodeAt(i);
    const second = value.charCodeAt(i + 1);
    if ((first | second) > 127) throw badDigitPair(field, value, i);
    const high = table[first]!;
    const low = table[second]!;
    if ((high | low) < 0) throw badDigitPair(field, value, i);
    out[at++] = (high << 4) | low;
  }
  if (i < digits) out[at++] = (digitNibble(field, value, i) << 4) | field.fillNibble;
  writer.offset = at;
  return digits;
}

/** The error for characters `i` and `i + 1` of `value`, one of which the field does not allow. */
function badDigitPair(field: CompiledField, value: string, i: number): Error {
  digitNibble(field, value, i);
  digitNibble(field, value, i + 1);
  return new Error('unreachable: one of the two characters is not a digit of the field'); // a bug
}

/** The nibble of character `i` of `value`, which the field must allow. */
function digitNibble(field: CompiledField, value: string, i: number): number {
  const code = value.charCodeAt(i);
  const nibble = code < 128 ? field.digitNibbles[code]! : -1;
  if (nibble < 0) {
    throw packError(field.path, `character ${i + 1} is not allowed in a ${field.spec.type} field`);
  }
  return nibble;
}

function packTlv(field: CompiledField, value: FieldValue, writer: ByteWriter): number {
  if (!Array.isArray(value)) throw packError(field.path, 'must be an array of BER-TLV data objects');
  try {
    return encodeTlvField(value as readonly TlvNode[], writer);
  } catch (error) {
    const tlvPath = (error as { path?: readonly string[] }).path ?? [];
    throw packError([...field.path, ...tlvPath], 'holds a data object that cannot be encoded', error);
  }
}

function packPositional(field: CompiledField, value: FieldValue, writer: ByteWriter): number {
  if (!(value instanceof Map)) throw packError(field.path, 'must be a Map of subfields');
  const start = writer.offset;
  for (const subfield of field.subfields) {
    const key = subfield.path[subfield.path.length - 1]!;
    const subvalue = value.get(key);
    if (subvalue === undefined)
      throw packError(subfield.path, 'is missing; every positional subfield is required');
    packField(subfield, subvalue, writer);
  }
  for (const key of value.keys()) {
    if (!field.subfields.some((subfield) => subfield.path[subfield.path.length - 1] === key)) {
      throw packError([...field.path, String(key)], 'is not a subfield of the spec');
    }
  }
  return writer.offset - start;
}
