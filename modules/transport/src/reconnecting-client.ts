import { backoffDelay } from './backoff-delay.ts';
import { Channel } from './channel.ts';
import type { TimerHandle } from './clock.ts';
import { encodeMessage } from './encode-message.ts';
import { type EndpointSettings, endpointSettings } from './endpoint-settings.ts';
import type { Link } from './link.ts';
import type { MessageCodec } from './message-codec.ts';
import { PendingRequests } from './pending-requests.ts';
import type { ClientOptions, RequestOptions, TransportClient } from './transport.ts';
import { TransportError } from './transport-error.ts';
import { createTransportMetrics, type TransportMetrics } from './transport-metrics.ts';

export interface ClientWiring<M> {
  readonly codec: MessageCodec<M>;
  readonly maxFrameBytes: number;
  /** Opens one link to the server; rejects if it cannot. */
  readonly dial: () => Promise<Link>;
  readonly name: string;
}

type State = 'dialing' | 'open' | 'backoff' | 'failed' | 'closed';

/**
 * A client over one persistent connection, shared by the TCP and memory transports: it dials,
 * redials with exponential backoff and jitter when the connection fails, and pairs responses with
 * requests through one PendingRequests that outlives each connection.
 */
export class ReconnectingClient<M> implements TransportClient<M> {
  readonly metrics: TransportMetrics = createTransportMetrics();
  readonly #wiring: ClientWiring<M>;
  readonly #options: ClientOptions<M>;
  readonly #settings: EndpointSettings;
  readonly #pending: PendingRequests<M>;
  #state: State = 'dialing';
  #channel: Channel<M> | undefined;
  #attempt = 0;
  #connections = 0;
  #timer: TimerHandle | undefined;
  #waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  #closedSignal: Promise<void> | undefined;
  #onChannelGone: (() => void) | undefined;

  constructor(wiring: ClientWiring<M>, options: ClientOptions<M>) {
    this.#wiring = wiring;
    this.#options = options;
    this.#settings = endpointSettings(options);
    this.#pending = new PendingRequests<M>({ ...this.#settings, metrics: this.metrics });
    backoffDelay(1, options.reconnect ?? {}, () => 0); // checks the backoff options now, not at the first failure
    this.#dial();
  }

  get isConnected(): boolean {
    return this.#state === 'open';
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  request(message: M, options: RequestOptions = {}): Promise<M> {
    if (this.#state === 'closed')
      return Promise.reject(new TransportError('ERR_CLOSED', 'the client is closed'));
    const channel = this.#channel;
    if (channel !== undefined) return channel.request(message, options);
    if ((this.#options.whenDisconnected ?? 'fail') === 'fail' || this.#state === 'failed') {
      return Promise.reject(new TransportError('ERR_NOT_CONNECTED', 'the client is not connected'));
    }
    try {
      const { codec, maxFrameBytes } = this.#wiring;
      const bytes = encodeMessage(codec, message, maxFrameBytes);
      const timeoutMs = options.timeoutMs ?? this.#settings.defaultTimeoutMs;
      return this.#pending.add(
        codec.requestKey(message),
        bytes,
        timeoutMs,
        options.retransmission ?? false,
      )[1];
    } catch (error) {
      return Promise.reject(error);
    }
  }

  connected(): Promise<void> {
    if (this.#state === 'open') return Promise.resolve();
    if (this.#state === 'closed')
      return Promise.reject(new TransportError('ERR_CLOSED', 'the client is closed'));
    if (this.#state === 'failed') {
      return Promise.reject(new TransportError('ERR_CONNECT_FAILED', 'the client gave up connecting'));
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  close(): Promise<void> {
    if (this.#state === 'closed') return this.#closedSignal ?? Promise.resolve();
    this.#state = 'closed';
    if (this.#timer !== undefined) this.#settings.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const closedError = new TransportError('ERR_CLOSED', 'the client is closed');
    this.#pending.failSent(closedError, true);
    this.#wake(closedError);
    const channel = this.#channel;
    this.#closedSignal =
      channel === undefined || !channel.isOpen
        ? Promise.resolve()
        : new Promise((resolve) => {
            this.#onChannelGone = resolve;
            channel.end();
          });
    return this.#closedSignal;
  }

  #dial(): void {
    this.#state = 'dialing';
    this.#wiring.dial().then(
      (link) => this.#opened(link),
      () => this.#retry(),
    );
  }

  #opened(link: Link): void {
    if (this.#state === 'closed') {
      link.destroy();
      return;
    }
    this.#attempt = 0;
    this.#state = 'open';
    this.#connections++;
    const channel = new Channel<M>(link, this.#pending, {
      ...this.#settings,
      connectionId: `${this.#wiring.name}-${this.#connections}`,
      codec: this.#wiring.codec,
      handler: this.#options.handler,
      onMalformed: this.#options.onMalformed,
      maxFrameBytes: this.#wiring.maxFrameBytes,
      metrics: this.metrics,
      onClosed: () => this.#lost(channel),
    });
    this.#channel = channel;
    for (const entry of this.#pending.unsent()) channel.transmit(entry);
    this.#wake();
  }

  #lost(channel: Channel<M>): void {
    if (this.#channel !== channel) return;
    this.#channel = undefined;
    this.#pending.failSent(
      new TransportError('ERR_CONNECTION_LOST', 'the connection closed with the request in flight'),
    );
    if (this.#state === 'closed') {
      this.#onChannelGone?.();
      return;
    }
    this.#retry();
  }

  #retry(): void {
    if (this.#state === 'closed') return;
    this.#attempt++;
    const maxAttempts = this.#options.reconnect?.maxAttempts ?? Number.POSITIVE_INFINITY;
    if (this.#attempt > maxAttempts) {
      this.#state = 'failed';
      const error = new TransportError('ERR_CONNECT_FAILED', 'the client gave up connecting');
      this.#pending.failSent(error, true);
      this.#wake(error);
      return;
    }
    this.#state = 'backoff';
    const delayMs = backoffDelay(
      this.#attempt,
      this.#options.reconnect ?? {},
      this.#options.random ?? Math.random,
    );
    this.metrics.reconnects++;
    this.#settings.emit({ type: 'reconnect-scheduled', attempt: this.#attempt, delayMs });
    this.#timer = this.#settings.clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#state === 'backoff') this.#dial();
    }, delayMs);
  }

  #wake(error?: unknown): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) {
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
  }
}
