/**
 * The output of `pack`. Messages are written one after the other into a block of memory, and
 * each result is a view of its own bytes in that block: no copy at the end, and no memory
 * allocated per message (a fresh typed array of more than a few dozen bytes costs more than
 * packing a whole message). A result's bytes are never written again: the next message goes
 * after it, and when a block is full the message moves to a new one. As with Node's `Buffer`
 * pool, a result may have a non-zero `byteOffset` and keeps its block alive (32 KiB for `pack`).
 *
 * Positions (`offset`, and those the packer keeps) count from the start of the message.
 */
export class ByteWriter {
  /** The message being written: a view of the block from the message's first byte. */
  bytes: Uint8Array;
  /** Where the next byte goes in `bytes`, so also the bytes written so far. */
  offset = 0;
  readonly #blockSize: number;
  #block: ArrayBuffer;
  /** Bytes of the block taken by finished messages. */
  #used = 0;
  /** Where `bytes` starts in the block. */
  #viewAt = 0;

  constructor(blockSize: number) {
    this.#blockSize = blockSize;
    this.#block = new ArrayBuffer(blockSize);
    this.bytes = new Uint8Array(this.#block);
  }

  /** Starts a new message after the last finished one, dropping whatever a failed one left. */
  begin(): void {
    if (this.#viewAt !== this.#used) {
      this.bytes = new Uint8Array(this.#block, this.#used);
      this.#viewAt = this.#used;
    }
    this.offset = 0;
  }

  /** Makes room for `count` more bytes, moving the message to a new block when needed. */
  reserve(count: number): void {
    // One comparison, small enough for V8 to inline at each call; moving is the rare case.
    if (this.offset + count > this.bytes.length) this.moveTo(this.offset + count);
  }

  /** Moves the message to a new block of at least `needed` bytes; `reserve` calls it when full. */
  moveTo(needed: number): void {
    const block = new ArrayBuffer(Math.max(this.#blockSize, 2 * needed));
    const bytes = new Uint8Array(block);
    bytes.set(this.bytes.subarray(0, this.offset));
    this.#block = block;
    this.#used = 0;
    this.#viewAt = 0;
    this.bytes = bytes;
  }

  write(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.bytes.set(bytes, this.offset);
    this.offset += bytes.length;
  }

  /** The message written since `begin`, as a view this writer will not write again. */
  finish(): Uint8Array {
    // The constructor rather than subarray(), which looks up a species constructor: half the cost.
    const message = new Uint8Array(this.#block, this.#viewAt, this.offset);
    this.#used += this.offset;
    return message;
  }
}
