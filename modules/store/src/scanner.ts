import { isLuhnValid } from '@amulet/emv';

/**
 * Finds what looks like a clear card number in raw bytes: runs of 13 to 19 ASCII digits whose
 * Luhn check digit is right (ISO/IEC 7812-1 Annex B). Used on database files, WALs, logs and traces
 * to prove no PAN is stored in clear (DESIGN invariant 2). A longer run of digits is also searched
 * for every 13–19 digit window inside it, because a PAN may sit next to other digits.
 */
export interface PanHit {
  readonly offset: number;
  readonly digits: string;
}

export function findClearPans(bytes: Uint8Array): PanHit[] {
  const hits: PanHit[] = [];
  let start = -1;
  const flush = (end: number): void => {
    const length = end - start;
    if (length < 13) return;
    const run = String.fromCharCode(...bytes.subarray(start, end));
    if (length <= 19) {
      if (isLuhnValid(run)) hits.push({ offset: start, digits: run });
      return;
    }
    for (let n = 13; n <= 19; n++)
      for (let i = 0; i + n <= length; i++) {
        const window = run.slice(i, i + n);
        if (isLuhnValid(window)) hits.push({ offset: start + i, digits: window });
      }
  };
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b >= 0x30 && b <= 0x39) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      flush(i);
      start = -1;
    }
  }
  if (start >= 0) flush(bytes.length);
  return hits;
}

const isHexByte = (b: number | undefined): boolean =>
  b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66));

/**
 * Drops the hits that sit inside a hexadecimal word of 32 characters or more with a letter in it.
 * A SHA-256 digest or a random identifier in hex holds a Luhn-valid run of 13+ digits now and then
 * by chance (about one 13-digit run in ten passes the check), which is not a card number. A PAN
 * glued to such a word is dropped too, so a caller that filters this way also searches for the
 * card numbers it knows, wherever they stand.
 */
export function outsideHexWords(bytes: Uint8Array, hits: readonly PanHit[]): PanHit[] {
  return hits.filter((hit) => {
    let start = hit.offset;
    let end = hit.offset + hit.digits.length;
    while (isHexByte(bytes[start - 1])) start--;
    while (isHexByte(bytes[end])) end++;
    if (end - start < 32) return true;
    for (let i = start; i < end; i++) if (bytes[i]! > 0x39) return false;
    return true;
  });
}

/** ISO/IEC 7812-1 Annex B, from @amulet/emv; kept under this name for the store's callers. */
export { isLuhnValid as luhnValid };
