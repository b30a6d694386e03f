import { concat } from '@amulet/bytes';
import { encodeTlvLength, readLength } from './length.ts';
import { readTag, tagBytes } from './tag.ts';
import { TlvError } from './tlv-error.ts';

/**
 * One entry of a Data Object List (EMV Book 3 section 5.4): PDOL 9F38, CDOL1 8C, CDOL2 8D,
 * DDOL 9F49, TDOL 97. The card asks for the value of `tag`, exactly `length` bytes long.
 */
export interface DolEntry {
  readonly tag: string;
  readonly length: number;
}

/** A DOL entry never asks for more than this: the whole command data field is at most 255 bytes. */
const MAX_DOL_ENTRY_LENGTH = 255;

/**
 * Parses a DOL: a plain concatenation of tag and length fields, no values (Book 3 5.4). Tags
 * and lengths follow the same strict rules as the TLV decoder (no padding is allowed here).
 */
export function parseDol(bytes: Uint8Array): DolEntry[] {
  const entries: DolEntry[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const { tag, next } = readTag(bytes, offset, bytes.length, []);
    const { length, next: after } = readLength(bytes, next, bytes.length, [tag], MAX_DOL_ENTRY_LENGTH);
    entries.push({ tag, length });
    offset = after;
  }
  return entries;
}

/** Encodes DOL entries, the inverse of `parseDol`. */
export function encodeDol(entries: readonly DolEntry[]): Uint8Array {
  return concat(
    ...entries.flatMap((entry) => [tagBytes(entry.tag), encodeTlvLength(checkDolEntryLength(entry))]),
  );
}

/** An entry's length, checked to be a whole number of bytes from 0 to 255. */
export function checkDolEntryLength(entry: DolEntry): number {
  if (!Number.isInteger(entry.length) || entry.length < 0 || entry.length > MAX_DOL_ENTRY_LENGTH) {
    throw new TlvError('ERR_DOL_LENGTH', `DOL entry ${String(entry.tag)} asks for an invalid length`, {
      path: [String(entry.tag)],
    });
  }
  return entry.length;
}
