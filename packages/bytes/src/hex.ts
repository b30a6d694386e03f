import { BytesError } from './amulet-error.ts';

const HEX_DIGITS = '0123456789ABCDEF';
const BYTE_TO_HEX: string[] = Array.from(
  { length: 256 },
  (_, b) => HEX_DIGITS[b >> 4]! + HEX_DIGITS[b & 15]!,
);

function nibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 65 && code <= 70) return code - 55; // A-F
  if (code >= 97 && code <= 102) return code - 87; // a-f
  return -1;
}

/**
 * Decodes hexadecimal text (either case, no separators) into bytes.
 * The error names the position of the bad character, never the text itself.
 */
export function fromHex(text: string): Uint8Array {
  if (typeof text !== 'string') throw new BytesError('ERR_HEX_TYPE', 'hex input must be a string');
  if (text.length % 2 !== 0) {
    throw new BytesError('ERR_HEX_LENGTH', `hex input has an odd number of digits (${text.length})`);
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    const high = nibble(text.charCodeAt(2 * i));
    const low = nibble(text.charCodeAt(2 * i + 1));
    if (high < 0 || low < 0) {
      const position = high < 0 ? 2 * i : 2 * i + 1;
      throw new BytesError('ERR_HEX_DIGIT', `hex input has a non-hex character at position ${position}`, {
        offset: position,
      });
    }
    out[i] = (high << 4) | low;
  }
  return out;
}

/** The character codes of each byte's two digits: byte b at 2b and 2b + 1. */
const HEX_CODES = new Uint8Array(512);
for (let b = 0; b < 256; b++) {
  HEX_CODES[2 * b] = HEX_DIGITS.charCodeAt(b >> 4);
  HEX_CODES[2 * b + 1] = HEX_DIGITS.charCodeAt(b & 15);
}
/** Hex digits are ASCII, which every single-byte decoder reads as itself. */
const asciiDecoder = new TextDecoder('latin1');
/** Longer inputs are spelled here, then decoded in one call, a chunk at a time. */
const scratch = new Uint8Array(16_384);
const SHORT = 32;

/**
 * Encodes bytes as upper-case hexadecimal, the card world's convention. Up to 4 bytes the digit
 * pairs are joined; up to 32 the digits' codes go to `String.fromCharCode` at once; longer inputs
 * are spelled into a scratch buffer and decoded as ASCII. Joining pairs for every length made a
 * new string per byte: 155 ns for 18 bytes and 2.3 µs for 300, against 98 ns and 0.9 µs this way
 * (bench/network.ts, docs/network.md).
 */
export function toHex(bytes: Uint8Array): string {
  const n = bytes.length;
  if (n <= 4) {
    // A pair or two of digits: joining them costs less than an array of codes.
    let text = '';
    for (let i = 0; i < n; i++) text += BYTE_TO_HEX[bytes[i]!]!;
    return text;
  }
  if (n <= SHORT) {
    const codes = new Array<number>(2 * n);
    for (let i = 0; i < n; i++) {
      const b = bytes[i]!;
      codes[2 * i] = HEX_CODES[2 * b]!;
      codes[2 * i + 1] = HEX_CODES[2 * b + 1]!;
    }
    return String.fromCharCode.apply(null, codes);
  }
  let text = '';
  const chunk = scratch.length / 2;
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    for (let i = start; i < end; i++) {
      const b = bytes[i]!;
      scratch[2 * (i - start)] = HEX_CODES[2 * b]!;
      scratch[2 * (i - start) + 1] = HEX_CODES[2 * b + 1]!;
    }
    text += asciiDecoder.decode(scratch.subarray(0, 2 * (end - start)));
  }
  return text;
}

/** True when `text` is non-empty, even-length hexadecimal. */
export function isHex(text: string): boolean {
  return text.length % 2 === 0 && /^[0-9A-Fa-f]*$/.test(text);
}
