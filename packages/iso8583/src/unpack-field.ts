import { TlvError } from '@amulet/tlv';
import type { CompiledField } from './compile-spec.ts';
import { Cursor } from './cursor.ts';
import { DIGIT_TEXT_MAX_DIGITS, digitText } from './digit-text.ts';
import { unpackError } from './field-error.ts';
import type { FieldValue } from './iso8583-message.ts';
import { readPrefix } from './length-prefix.ts';
import { decodeTlvField } from './tlv-field.ts';

const HEX_DIGITS = '0123456789ABCDEF';
/** One-character strings by character code. */
const CHARACTERS: readonly string[] = Array.from({ length: 256 }, (_, code) => String.fromCharCode(code));
/** The character of each nibble value (BCD digits, and D for the track separator). */
const NIBBLE_CHARACTERS: readonly string[] = [...HEX_DIGITS];
/** The value of each byte of two decimal digits (0x00-0x99), -1 for the other bytes. */
const DECIMAL_PAIRS = new Int8Array(256).fill(-1);
for (let high = 0; high < 10; high++) {
  for (let low = 0; low < 10; low++) DECIMAL_PAIRS[(high << 4) | low] = high * 10 + low;
}
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
    if (length <= DIGIT_TEXT_MAX_DIGITS && length > 0) {
      // Short runs of ASCII digits have their strings made once (see digitText).
      let value = 0;
      for (let i = start; i < end; i++) {
        const digit = bytes[i]! - 0x30;
        if (digit < 0 || digit > 9) return latin1Text(bytes, start, end);
        value = value * 10 + digit;
      }
      return digitText(value, length);
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
  if (digits <= DIGIT_TEXT_MAX_DIGITS && digits > 0) {
    // Short values of decimal digits only, which every BCD field allows, have their strings
    // made once; a track separator nibble (D) or a bad nibble goes the long way.
    const value = decimalValue(bytes, 2 * start + (padFirst ? 1 : 0), digits);
    if (value >= 0) {
      cursor.at = end;
      return digitText(value, digits);
    }
  }
  const allowed = field.nibbles;
  let text = '';
  let at = start;
  if (padFirst) {
    const low = bytes[at]! & 0x0f;
    if (allowed[low] !== 1) throw notDigit(field, at);
    text = NIBBLE_CHARACTERS[low]!;
    at++;
  }
  // Whole bytes; a trailing pad nibble leaves the last byte out. Two bytes of decimal digits,
  // which every BCD field allows, are four digits whose string is made once; other bytes are
  // checked with both nibbles at once, then added as their pair of characters.
  const last = odd && !padFirst ? end - 1 : end;
  for (; at + 1 < last; at += 2) {
    const high = DECIMAL_PAIRS[bytes[at]!]!;
    const low = DECIMAL_PAIRS[bytes[at + 1]!]!;
    if ((high | low) >= 0) text += digitText(high * 100 + low, 4);
    else text += digitPair(field, bytes, at) + digitPair(field, bytes, at + 1);
  }
  if (at < last) text += digitPair(field, bytes, at);
  if (last < end) {
    const high = bytes[last]! >> 4;
    if (allowed[high] !== 1) throw notDigit(field, last);
    text += NIBBLE_CHARACTERS[high]!;
  }
  cursor.at = end;
  return text;
}

/** The two characters of the byte at `at`, whose nibbles the field must allow. */
function digitPair(field: CompiledField, bytes: Uint8Array, at: number): string {
  const byte = bytes[at]!;
  if (field.digitPairs[byte] !== 1) throw notDigit(field, at);
  return NIBBLE_PAIRS[byte]!;
}

/**
 * The value of `count` BCD nibbles of `bytes` from nibble `from` (byte `from >> 1`, its high
 * nibble when `from` is even), or -1 when one of them is not a decimal digit.
 */
function decimalValue(bytes: Uint8Array, from: number, count: number): number {
  let value = 0;
  for (let n = from; n < from + count; n++) {
    const nibble = (bytes[n >> 1]! >> ((~n & 1) << 2)) & 0x0f;
    if (nibble > 9) return -1;
    value = value * 10 + nibble;
  }
  return value;
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
