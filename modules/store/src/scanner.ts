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

/** ISO/IEC 7812-1 Annex B, from @amulet/emv; kept under this name for the store's callers. */
export { isLuhnValid as luhnValid };
