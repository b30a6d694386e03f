import type { Socket } from 'node:net';
import { encodeFrame, type FrameOptions } from './encode-frame.ts';
import { FrameDecoder } from './frame-decoder.ts';
import type { Link, LinkListener } from './link.ts';

/**
 * A socket as a link: length-prefixed frames both ways. A broken stream (bad header, oversize
 * frame) cannot be resynchronised, so it is reported and the socket destroyed. Every socket error
 * ends up as `closed(error)`; none is left unhandled.
 */
export class TcpLink implements Link {
  readonly #socket: Socket;
  readonly #frames: FrameOptions;
  readonly #decoder: FrameDecoder;
  #listener: LinkListener | undefined;
  #error: unknown;
  #closed = false;
  #corked = false;

  constructor(socket: Socket, frames: FrameOptions) {
    this.#socket = socket;
    this.#frames = frames;
    this.#decoder = new FrameDecoder(frames);
    socket.setNoDelay(true);
    socket.on('error', (error) => {
      this.#error ??= error;
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#listener?.closed(this.#error);
    });
  }

  get remoteAddress(): string | undefined {
    const { remoteAddress, remotePort } = this.#socket;
    return remoteAddress === undefined ? undefined : `${remoteAddress}:${remotePort}`;
  }

  attach(listener: LinkListener): void {
    this.#listener = listener;
    if (this.#closed) {
      listener.closed(this.#error);
      return;
    }
    this.#socket.on('data', (chunk: Buffer) => this.#data(chunk));
  }

  #data(chunk: Buffer): void {
    let frames: Uint8Array[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (error) {
      this.#error ??= error;
      this.#listener?.malformed(error);
      this.#socket.destroy();
      return;
    }
    for (const frame of frames) {
      if (this.#socket.destroyed) return;
      this.#listener?.frame(frame);
    }
  }

  write(message: Uint8Array): void {
    if (this.#socket.destroyed || this.#socket.writableEnded) return;
    // Frames written in one tick leave in one system call: cork now, uncork once the tick ends.
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.#socket.uncork();
      });
    }
    this.#socket.write(encodeFrame(message, this.#frames));
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  end(): void {
    // Reading resumes so the peer's end is seen and the socket can close.
    this.#socket.resume();
    this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }
}
