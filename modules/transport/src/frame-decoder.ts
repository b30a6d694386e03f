import type { FrameOptions } from './encode-frame.ts';
import {
  checkMaxFrameBytes,
  defaultLengthHeader,
  defaultMaxFrameBytes,
  headerBytes,
  type LengthHeader,
  readHeader,
} from './length-header.ts';
import { TransportError } from './transport-error.ts';

/**
 * Cuts a byte stream into length-prefixed frames, whatever the chunking: a chunk may hold part of
 * a header, several frames, or a frame and a half. A zero-length frame is returned like any other
 * (the connection layer treats it as a keep-alive).
 *
 * A header that cannot be parsed or a length over the maximum leaves the stream with no known
 * frame boundary, so the decoder fails for good: that `push` and every later one throw the same
 * TransportError, and the owner drops the connection.
 */
export class FrameDecoder {
  readonly #header: LengthHeader;
  readonly #headerSize: number;
  readonly #max: number;
  readonly #headerBuffer: Uint8Array;
  #headerFilled = 0;
  #body: Uint8Array | undefined;
  #bodyFilled = 0;
  /** Stream offset of the next byte, so errors say where the stream broke. */
  #streamOffset = 0;
  #failure: TransportError | undefined;

  constructor(options: FrameOptions = {}) {
    this.#header = options.header ?? defaultLengthHeader;
    this.#headerSize = headerBytes(this.#header);
    this.#max = checkMaxFrameBytes(this.#header, options.maxFrameBytes ?? defaultMaxFrameBytes);
    this.#headerBuffer = new Uint8Array(this.#headerSize);
  }

  /** True when some bytes of an unfinished frame are held. */
  get hasPartialFrame(): boolean {
    return this.#headerFilled > 0 || this.#body !== undefined;
  }

  /** Feeds a chunk; returns the frames it completes, in order. Each frame is a fresh copy. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failure !== undefined) throw this.#failure;
    const frames: Uint8Array[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.#body === undefined) {
        const take = Math.min(this.#headerSize - this.#headerFilled, chunk.length - at);
        this.#headerBuffer.set(chunk.subarray(at, at + take), this.#headerFilled);
        this.#headerFilled += take;
        at += take;
        if (this.#headerFilled < this.#headerSize) break;
        const headerOffset = this.#streamOffset + at - this.#headerSize;
        const length = this.#readLength(headerOffset);
        this.#headerFilled = 0;
        if (length === 0) {
          frames.push(new Uint8Array(0));
          continue;
        }
        this.#body = new Uint8Array(length);
        this.#bodyFilled = 0;
      }
      const body = this.#body;
      const take = Math.min(body.length - this.#bodyFilled, chunk.length - at);
      body.set(chunk.subarray(at, at + take), this.#bodyFilled);
      this.#bodyFilled += take;
      at += take;
      if (this.#bodyFilled === body.length) {
        frames.push(body);
        this.#body = undefined;
      }
    }
    this.#streamOffset += chunk.length;
    return frames;
  }

  #readLength(headerOffset: number): number {
    try {
      const length = readHeader(this.#header, this.#headerBuffer, headerOffset);
      if (length > this.#max) {
        throw new TransportError('ERR_FRAME_TOO_LARGE', `frame of ${length} bytes exceeds ${this.#max}`, {
          offset: headerOffset,
        });
      }
      return length;
    } catch (error) {
      this.#failure = error as TransportError;
      throw error;
    }
  }
}
