import { findDataObject } from './data-object.ts';
import { checkDolEntryLength, type DolEntry } from './dol.ts';
import { isConstructedTag } from './tag.ts';
import { TlvError } from './tlv-error.ts';

/**
 * Builds the data a DOL asks for (EMV Book 3 section 5.4): each entry's value, fitted to the
 * entry's length, concatenated in the DOL's order, with no tags or lengths.
 * - No value, or a constructed tag: `length` zero bytes.
 * - Longer than asked: format n loses its leftmost bytes; every other format its rightmost.
 * - Shorter than asked: format n gets leading 00 bytes; format cn trailing 'FF' bytes; every
 *   other format trailing 00 bytes.
 * The format comes from the dictionary; a tag it does not know is treated as binary.
 */
export function buildDolData(
  entries: readonly DolEntry[],
  values: ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>,
): Uint8Array {
  const byTag = normalise(values);
  const total = entries.reduce((sum, entry) => sum + checkDolEntryLength(entry), 0);
  const out = new Uint8Array(total); // zero-filled: the missing-value rule
  let offset = 0;
  for (const entry of entries) {
    const tag = entry.tag.toUpperCase();
    const value = byTag.get(tag);
    if (value !== undefined && !isConstructedTag(tag)) {
      out.set(fit(value, entry.length, findDataObject(tag)?.format ?? 'b'), offset);
    }
    offset += entry.length;
  }
  return out;
}

/** Cuts DOL data back into one value per entry; the data must be exactly as long as the DOL asks. */
export function splitDolData(entries: readonly DolEntry[], data: Uint8Array): Map<string, Uint8Array> {
  const total = entries.reduce((sum, entry) => sum + checkDolEntryLength(entry), 0);
  if (data.length !== total) {
    throw new TlvError('ERR_DOL_LENGTH', `DOL data is ${data.length} bytes but the DOL asks for ${total}`, {
      offset: Math.min(data.length, total),
    });
  }
  const values = new Map<string, Uint8Array>();
  let offset = 0;
  for (const entry of entries) {
    const tag = entry.tag.toUpperCase();
    if (values.has(tag)) {
      throw new TlvError('ERR_DOL_DUPLICATE_TAG', `DOL names tag ${tag} more than once`, { path: [tag] });
    }
    values.set(tag, data.slice(offset, offset + entry.length));
    offset += entry.length;
  }
  return values;
}

function fit(value: Uint8Array, length: number, format: string): Uint8Array {
  if (value.length === length) return value;
  if (format === 'n') {
    if (value.length > length) return value.subarray(value.length - length);
    const out = new Uint8Array(length);
    out.set(value, length - value.length);
    return out;
  }
  if (value.length > length) return value.subarray(0, length);
  const out = new Uint8Array(length).fill(format === 'cn' ? 0xff : 0x00);
  out.set(value, 0);
  return out;
}

function normalise(
  values: ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>,
): Map<string, Uint8Array> {
  const entries = values instanceof Map ? [...values.entries()] : Object.entries(values);
  const byTag = new Map<string, Uint8Array>();
  for (const [tag, value] of entries) {
    if (!(value instanceof Uint8Array)) {
      throw new TlvError('ERR_DOL_VALUE', `value for DOL tag ${tag.toUpperCase()} must be a Uint8Array`, {
        path: [tag.toUpperCase()],
      });
    }
    byTag.set(tag.toUpperCase(), value);
  }
  return byTag;
}
