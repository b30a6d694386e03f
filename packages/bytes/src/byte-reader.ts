import { BytesError } from './amulet-error.ts';

/**
 * A cursor over bytes that refuses to read past the end. Every codec reads through one, so a
 * truncated or hostile input gives `ERR_READ_PAST_END` with the offset, never a silent zero or
 * an out-of-range `subarray`.
 */
export class ByteReader {
  readonly bytes: Uint8Array;
  private position: number;
  private readonly end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    if (start < 0 || end > bytes.length || start > end) {
      throw new BytesError('ERR_READ_RANGE', `reader range ${start}..${end} is outside 0..${bytes.length}`);
    }
    this.bytes = bytes;
    this.position = start;
    this.end = end;
  }

  get offset(): number {
    return this.position;
  }

  get remaining(): number {
    return this.end - this.position;
  }

  get done(): boolean {
    return this.position >= this.end;
  }

  private require(count: number): void {
    if (!Number.isInteger(count) || count < 0) {
      throw new BytesError('ERR_READ_COUNT', `cannot read ${count} bytes`, { offset: this.position });
    }
    if (count > this.end - this.position) {
      throw new BytesError(
        'ERR_READ_PAST_END',
        `needed ${count} bytes at offset ${this.position} but only ${this.end - this.position} remain`,
        { offset: this.position },
      );
    }
  }

  /** The next byte, without consuming it. */
  peekUint8(): number {
    this.require(1);
    return this.bytes[this.position]!;
  }

  readUint8(): number {
    this.require(1);
    return this.bytes[this.position++]!;
  }

  readUint16(): number {
    this.require(2);
    const value = (this.bytes[this.position]! << 8) | this.bytes[this.position + 1]!;
    this.position += 2;
    return value;
  }

  readUint32(): number {
    this.require(4);
    const b = this.bytes;
    const p = this.position;
    const value = b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
    this.position += 4;
    return value;
  }

  /** A view (no copy) of the next `count` bytes. */
  readBytes(count: number): Uint8Array {
    this.require(count);
    const view = this.bytes.subarray(this.position, this.position + count);
    this.position += count;
    return view;
  }

  /** Everything left, as a view. */
  readRest(): Uint8Array {
    return this.readBytes(this.remaining);
  }

  skip(count: number): void {
    this.require(count);
    this.position += count;
  }
}
