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

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export function findClearPans(bytes: Uint8Array): PanHit[] {
  const hits: PanHit[] = [];
  let start = -1;
  const flush = (end: number): void => {
    const length = end - start;
    if (length < 13) return;
    const run = String.fromCharCode(...bytes.subarray(start, end));
    if (length <= 19) {
      if (luhnValid(run)) hits.push({ offset: start, digits: run });
      return;
    }
    for (let n = 13; n <= 19; n++)
      for (let i = 0; i + n <= length; i++) {
        const window = run.slice(i, i + n);
        if (luhnValid(window)) hits.push({ offset: start + i, digits: window });
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
