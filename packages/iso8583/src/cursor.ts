/**
 * The read position of `unpack` in a message: `at` moves forward, never past `end` (every read
 * is checked against `end` first, so a truncated input gives an `Iso8583Error`, never a silent
 * zero). One plain object per message, reads are direct indexing.
 */
export class Cursor {
  readonly bytes: Uint8Array;
  at: number;
  readonly end: number;

  constructor(bytes: Uint8Array, at: number, end: number) {
    this.bytes = bytes;
    this.at = at;
    this.end = end;
  }
}
