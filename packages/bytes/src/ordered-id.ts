import { toHex } from './hex.ts';

/**
 * An identifier whose text sorts by creation time: `prefix`, `_`, the time in milliseconds as 12
 * hex digits (enough until the year 10889), then `randomPart` in lower-case hex. Rows keyed by
 * such ids go to the end of their B-tree indexes, next to the rows of the same commit, instead of
 * each into a random page; the random part keeps ids made in the same millisecond apart.
 */
export function orderedId(prefix: string, atMs: number, randomPart: Uint8Array): string {
  const time = Math.max(0, Math.floor(atMs)).toString(16).padStart(12, '0').slice(-12);
  return `${prefix}_${time}${toHex(randomPart).toLowerCase()}`;
}
