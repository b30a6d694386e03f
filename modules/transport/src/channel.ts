import { encodeMessage } from './encode-message.ts';
import type { Link } from './link.ts';
import type { MessageCodec } from './message-codec.ts';
import type { PendingRequest, PendingRequests } from './pending-requests.ts';
import type { Connection, MalformedHandler, MessageHandler, RequestOptions } from './transport.ts';
import { TransportError } from './transport-error.ts';
import type { TransportEvent } from './transport-event.ts';
import type { TransportMetrics } from './transport-metrics.ts';

export interface ChannelConfig<M> {
  readonly connectionId: string;
  readonly codec: MessageCodec<M>;
  readonly handler: MessageHandler<M> | undefined;
  readonly onMalformed: MalformedHandler<M> | undefined;
  readonly maxHandlersInFlight: number;
  readonly maxFrameBytes: number;
  readonly defaultTimeoutMs: number;
  readonly metrics: TransportMetrics;
  readonly emit: (event: TransportEvent) => void;
  readonly onClosed: (error?: unknown) => void;
}

/**
 * One live connection above its link: decodes frames, hands responses to the pending requests
 * they answer, runs the handler for requests (at most `maxHandlersInFlight` at once, as many more
 * waiting, and the link paused beyond that), and writes answers back on the same link.
 * Symmetric: either end may ask.
 */
export class Channel<M> implements Connection<M> {
  readonly #link: Link;
  readonly #pending: PendingRequests<M>;
  readonly #config: ChannelConfig<M>;
  readonly #waiting: M[] = [];
  #active = 0;
  #draining = false;
  #closed = false;
  #idle: (() => void) | undefined;

  constructor(link: Link, pending: PendingRequests<M>, config: ChannelConfig<M>) {
    this.#link = link;
    this.#pending = pending;
    this.#config = config;
    config.metrics.connectionsOpened++;
    config.emit({ type: 'connection-opened', connectionId: config.connectionId });
    link.attach({
      frame: (bytes) => this.#receive(bytes),
      malformed: (error) => {
        config.metrics.malformedFrames++;
        config.emit({ type: 'malformed-frame', connectionId: config.connectionId, error });
      },
      closed: (error) => this.#onClosed(error),
    });
  }

  get connectionId(): string {
    return this.#config.connectionId;
  }

  get remoteAddress(): string | undefined {
    return this.#link.remoteAddress;
  }

  get isOpen(): boolean {
    return !this.#closed;
  }

  request(message: M, options: RequestOptions = {}): Promise<M> {
    if (this.#closed) return Promise.reject(new TransportError('ERR_CLOSED', 'the connection is closed'));
    try {
      const { codec, maxFrameBytes, defaultTimeoutMs } = this.#config;
      const bytes = encodeMessage(codec, message, maxFrameBytes);
      const [entry, promise] = this.#pending.add(
        codec.requestKey(message),
        bytes,
        options.timeoutMs ?? defaultTimeoutMs,
        options.retransmission ?? false,
      );
      this.transmit(entry);
      return promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Writes a registered request. */
  transmit(entry: PendingRequest<M>): void {
    entry.sent = true;
    this.#config.metrics.requestsSent++;
    this.#write(entry.message);
  }

  /** Stops taking new frames, lets running and queued handlers finish; resolves when idle. */
  drain(): Promise<void> {
    this.#draining = true;
    this.#link.pause();
    if (this.#active === 0 && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#idle = resolve;
    });
  }

  end(): void {
    this.#link.end();
  }

  destroy(): void {
    this.#link.destroy();
  }

  #write(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#config.metrics.framesOut++;
    this.#config.metrics.bytesOut += bytes.length;
    this.#link.write(bytes);
  }

  #receive(bytes: Uint8Array): void {
    const { metrics, codec, connectionId, emit } = this.#config;
    metrics.framesIn++;
    metrics.bytesIn += bytes.length;
    if (bytes.length === 0) {
      metrics.emptyFrames++;
      return;
    }
    let message: M;
    let isResponse: boolean;
    let key: string;
    try {
      message = codec.decode(bytes);
      isResponse = codec.isResponse(message);
      key = isResponse ? codec.responseKey(message) : codec.requestKey(message);
    } catch (cause) {
      // A codec that throws anywhere here has met content it cannot handle: report, keep the connection.
      metrics.decodeErrors++;
      const error = new TransportError('ERR_MESSAGE_DECODE', 'frame content could not be decoded', { cause });
      emit({ type: 'decode-error', connectionId, error });
      const onMalformed = this.#config.onMalformed;
      if (onMalformed !== undefined) this.#run(() => onMalformed(bytes, cause, this));
      return;
    }
    if (isResponse) {
      const outcome = this.#pending.settle(key, message);
      if (outcome === 'late') emit({ type: 'late-response', connectionId, key });
      if (outcome === 'unmatched') emit({ type: 'unmatched-response', connectionId, key });
      return;
    }
    if (this.#config.handler === undefined) {
      metrics.unhandledRequests++;
      emit({ type: 'unhandled-request', connectionId, key });
      return;
    }
    const max = this.#config.maxHandlersInFlight;
    if (this.#active >= max) {
      // Requests beyond the limit wait here; only when as many wait as run does reading stop, so
      // responses to this end's own requests keep flowing under moderate load.
      this.#waiting.push(message);
      if (this.#waiting.length >= max) this.#link.pause();
      return;
    }
    this.#handle(message);
  }

  #handle(message: M): void {
    const handler = this.#config.handler!;
    this.#run(() => handler(message, this));
  }

  /** Runs a handler-like callback, writes what it returns, and never lets it throw out. */
  #run(callback: () => Promise<M | undefined> | M | undefined): void {
    this.#active++;
    const settled = (async () => {
      const answer = await callback();
      if (answer !== undefined)
        this.#write(encodeMessage(this.#config.codec, answer, this.#config.maxFrameBytes));
    })();
    settled
      .catch((error: unknown) => {
        this.#config.metrics.handlerErrors++;
        this.#config.emit({ type: 'handler-error', connectionId: this.#config.connectionId, error });
      })
      .finally(() => this.#finished());
  }

  #finished(): void {
    this.#active--;
    const next = this.#waiting.shift();
    if (next !== undefined) this.#handle(next);
    if (!this.#draining && !this.#closed && this.#waiting.length < this.#config.maxHandlersInFlight) {
      this.#link.resume();
    }
    if (this.#active === 0 && this.#idle !== undefined) {
      this.#idle();
      this.#idle = undefined;
    }
  }

  #onClosed(error: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiting.length = 0;
    this.#config.metrics.connectionsClosed++;
    this.#config.emit({
      type: 'connection-closed',
      connectionId: this.#config.connectionId,
      ...(error === undefined ? {} : { error }),
    });
    this.#config.onClosed(error);
    if (this.#active === 0) {
      this.#idle?.();
      this.#idle = undefined;
    }
  }
}
