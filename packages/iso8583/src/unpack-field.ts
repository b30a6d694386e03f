import { TlvError } from '@amulet/tlv';
import type { CompiledField } from './compile-spec.ts';
import { Cursor } from './cursor.ts';
import { unpackError } from './field-error.ts';
import type { FieldValue } from './iso8583-message.ts';
import { readPrefix } from './length-prefix.ts';
import { decodeTlvField } from './tlv-field.ts';

const HEX_DIGITS = '0123456789ABCDEF';
/** One-character strings by character code. */
const CHARACTERS: readonly string[] = Array.from({ length: 256 }, (_, code) => String.fromCharCode(code));
/** The character of each nibble value (BCD digits, and D for the track separator). */
const NIBBLE_CHARACTERS: readonly string[] = [...HEX_DIGITS];
/** The two characters of each byte, high nibble first. */
const NIBBLE_PAIRS: readonly string[] = Array.from(
  { length: 256 },
  (_, byte) => HEX_DIGITS[byte >> 4]! + HEX_DIGITS[byte & 15]!,
);

/**
 * Reads one field at the cursor: its length prefix, then its content, checking each
 * byte against the field's type. Binary values are views into the input, not copies.
 */
export function unpackField(field: CompiledField, cursor: Cursor): FieldValue {
  let length = field.length;
  if (!field.fixed) {
    const at = cursor.at;
    need(field, cursor, field.prefixSize, ' bytes: its length prefix');
    length = readPrefix(cursor.bytes, at, field.prefixDigits, field.prefixEncoding);
    cursor.at = at + field.prefixSize;
    if (length < 0)
      throw unpackError(field.path, at, `the length prefix is not ${field.prefixDigits} digits`);
    if (length > field.length) {
      throw unpackError(
        field.path,
        at,
        `the length prefix states ${length}, more than the maximum ${field.length}`,
      );
    }
  }
  switch (field.kind) {
    case 'text':
      return unpackText(field, cursor, length);
    case 'bcd':
      return unpackBcd(field, cursor, length);
    case 'binary': {
      need(field, cursor, length, ' bytes');
      const start = cursor.at;
      cursor.at = start + length;
      return cursor.bytes.subarray(start, start + length);
    }
    case 'tlv':
      return unpackTlv(field, cursor, length);
    case 'positional':
      return unpackPositional(field, cursor, length);
  }
}

/**
 * Checks that `count` bytes remain. `unit` names what they are (' characters'), after the
 * count; the message is built only on failure.
 */
function need(field: CompiledField, cursor: Cursor, count: number, unit: string): void {
  const remaining = cursor.end - cursor.at;
  if (remaining < count) {
    const what = unit === ' bytes: its length prefix' ? 'its length prefix' : `${count}${unit}`;
    throw unpackError(field.path, cursor.at, `the message ends before ${what} (${remaining} bytes remain)`);
  }
}

function unpackText(field: CompiledField, cursor: Cursor, length: number): string {
  need(field, cursor, length, ' characters');
  const start = cursor.at;
  const end = start + length;
  const bytes = cursor.bytes;
  const table = field.decodeTable;
  cursor.at = end;
  if (field.bytesAreCodes) {
    // ASCII: the bytes are the character codes, so check them all, then build the string from
    // runs of codes, which is about twice as fast as adding one character at a time.
    for (let i = start; i < end; i++) {
      if (table[bytes[i]!] === 0) throw notAllowed(field, i);
    }
    return latin1Text(bytes, start, end);
  }
  let text = '';
  for (let i = start; i < end; i++) {
    const code = table[bytes[i]!]!;
    if (code === 0) throw notAllowed(field, i);
    text += CHARACTERS[code]!;
  }
  return text;
}

function notAllowed(field: CompiledField, at: number): Error {
  return unpackError(field.path, at, `the byte is not a character a ${field.spec.type} field may hold`);
}

const fromCodes = String.fromCharCode;

/** The string of character codes `bytes[start, end)`, built eight codes at a time. */
function latin1Text(bytes: Uint8Array, start: number, end: number): string {
  let text = '';
  let i = start;
  for (; end - i >= 8; i += 8) {
    text += fromCodes(
      bytes[i]!,
      bytes[i + 1]!,
      bytes[i + 2]!,
      bytes[i + 3]!,
      bytes[i + 4]!,
      bytes[i + 5]!,
      bytes[i + 6]!,
      bytes[i + 7]!,
    );
  }
  switch (end - i) {
    case 0:
      return text;
    case 1:
      return text + CHARACTERS[bytes[i]!]!;
    case 2:
      return text + fromCodes(bytes[i]!, bytes[i + 1]!);
    case 3:
      return text + fromCodes(bytes[i]!, bytes[i + 1]!, bytes[i + 2]!);
    case 4:
      return text + fromCodes(bytes[i]!, bytes[i + 1]!, bytes[i + 2]!, bytes[i + 3]!);
    case 5:
      return text + fromCodes(bytes[i]!, bytes[i + 1]!, bytes[i + 2]!, bytes[i + 3]!, bytes[i + 4]!);
    case 6:
      return (
        text + fromCodes(bytes[i]!, bytes[i + 1]!, bytes[i + 2]!, bytes[i + 3]!, bytes[i + 4]!, bytes[i + 5]!)
      );
    default:
      return (
        text +
        fromCodes(
          bytes[i]!,
          bytes[i + 1]!,
          bytes[i + 2]!,
          bytes[i + 3]!,
          bytes[i + 4]!,
          bytes[i + 5]!,
          bytes[i + 6]!,
        )
      );
  }
}

/** ISO 8583:1987 4.3: two digits a byte; an odd count carries one pad nibble, checked and dropped. */
function unpackBcd(field: CompiledField, cursor: Cursor, digits: number): string {
  const size = (digits + 1) >> 1;
  need(field, cursor, size, ' BCD bytes');
  const start = cursor.at;
  const bytes = cursor.bytes;
  const end = start + size;
  const odd = digits % 2 === 1;
  const padFirst = odd && field.padLeft;
  if (odd) {
    const pad = padFirst ? bytes[start]! >> 4 : bytes[end - 1]! & 0x0f;
    if (pad !== field.fillNibble) {
      throw unpackError(
        field.path,
        padFirst ? start : end - 1,
        'the pad nibble is not the fill the spec declares',
      );
    }
  }
  const allowed = field.nibbles;
  const pairs = field.digitPairs;
  let text = '';
  let at = start;
  if (padFirst) {
    const low = bytes[at]! & 0x0f;
    if (allowed[low] !== 1) throw notDigit(field, at);
    text = NIBBLE_CHARACTERS[low]!;
    at++;
  }
  // Whole bytes, both nibbles checked at once; a trailing pad nibble leaves the last byte out.
  const last = odd && !padFirst ? end - 1 : end;
  for (; at < last; at++) {
    const byte = bytes[at]!;
    if (pairs[byte] !== 1) throw notDigit(field, at);
    text += NIBBLE_PAIRS[byte]!;
  }
  if (last < end) {
    const high = bytes[last]! >> 4;
    if (allowed[high] !== 1) throw notDigit(field, last);
    text += NIBBLE_CHARACTERS[high]!;
  }
  cursor.at = end;
  return text;
}

function notDigit(field: CompiledField, at: number): Error {
  return unpackError(field.path, at, `the nibble is not a digit a ${field.spec.type} field may hold`);
}

/** Field 55 and the like: BER-TLV data objects (EMV Book 3 Annex B), no padding between them. */
function unpackTlv(field: CompiledField, cursor: Cursor, length: number): FieldValue {
  need(field, cursor, length, ' bytes');
  const start = cursor.at;
  cursor.at = start + length;
  try {
    return decodeTlvField(cursor.bytes, start, start + length);
  } catch (error) {
    if (!(error instanceof TlvError)) throw error;
    const path = [...field.path, ...(error.path ?? [])];
    throw unpackError(
      path,
      start + (error.offset ?? 0),
      `the BER-TLV data is malformed (${error.code})`,
      error,
    );
  }
}

function unpackPositional(field: CompiledField, cursor: Cursor, length: number): FieldValue {
  need(field, cursor, length, ' bytes');
  const start = cursor.at;
  cursor.at = start + length;
  const inner = new Cursor(cursor.bytes, start, start + length);
  const subfields = new Map<string, FieldValue>();
  for (const subfield of field.subfields) {
    subfields.set(subfield.path[subfield.path.length - 1]!, unpackField(subfield, inner));
  }
  if (inner.at < inner.end) {
    throw unpackError(field.path, inner.at, `${inner.end - inner.at} bytes are left after the last subfield`);
  }
  return subfields;
}
