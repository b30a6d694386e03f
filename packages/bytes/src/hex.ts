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

/** Encodes bytes as upper-case hexadecimal, the card world's convention. */
export function toHex(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i++) text += BYTE_TO_HEX[bytes[i]!]!;
  return text;
}

/** True when `text` is non-empty, even-length hexadecimal. */
export function isHex(text: string): boolean {
  return text.length % 2 === 0 && /^[0-9A-Fa-f]*$/.test(text);
}
