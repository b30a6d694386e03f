import { Channel } from './channel.ts';
import { type EndpointSettings, endpointSettings } from './endpoint-settings.ts';
import type { Link } from './link.ts';
import type { MessageCodec } from './message-codec.ts';
import { PendingRequests } from './pending-requests.ts';
import type { Connection, ServerOptions } from './transport.ts';
import { TransportError } from './transport-error.ts';
import { createTransportMetrics, type TransportMetrics } from './transport-metrics.ts';

export interface ServerWiring<M> {
  readonly codec: MessageCodec<M>;
  readonly maxFrameBytes: number;
  readonly name: string;
}

/**
 * The server side shared by the TCP and memory transports: one channel per accepted link, and the
 * graceful close (stop accepting, drain in-flight handlers, then end every connection).
 */
export class ServerCore<M> {
  readonly metrics: TransportMetrics = createTransportMetrics();
  readonly #wiring: ServerWiring<M>;
  readonly #options: ServerOptions<M>;
  readonly #settings: EndpointSettings;
  readonly #channels = new Set<Channel<M>>();
  #accepted = 0;
  #closing: Promise<void> | undefined;
  #allClosed: (() => void) | undefined;

  constructor(wiring: ServerWiring<M>, options: ServerOptions<M>) {
    this.#wiring = wiring;
    this.#options = options;
    this.#settings = endpointSettings(options);
  }

  get isClosing(): boolean {
    return this.#closing !== undefined;
  }

  connections(): readonly Connection<M>[] {
    return [...this.#channels];
  }

  accept(link: Link): void {
    if (this.#closing !== undefined || this.#channels.size >= (this.#options.maxConnections ?? 1024)) {
      link.destroy();
      return;
    }
    this.#accepted++;
    const pending = new PendingRequests<M>({ ...this.#settings, metrics: this.metrics });
    const channel: Channel<M> = new Channel<M>(link, pending, {
      ...this.#settings,
      connectionId: `${this.#wiring.name}-${this.#accepted}`,
      codec: this.#wiring.codec,
      handler: this.#options.handler,
      onMalformed: this.#options.onMalformed,
      maxFrameBytes: this.#wiring.maxFrameBytes,
      metrics: this.metrics,
      onClosed: () => {
        this.#channels.delete(channel);
        pending.failSent(
          new TransportError('ERR_CONNECTION_LOST', 'the connection closed with the request in flight'),
          true,
        );
        this.#checkClosed();
      },
    });
    this.#channels.add(channel);
  }

  #checkClosed(): void {
    if (this.#channels.size === 0) this.#allClosed?.();
  }

  /**
   * Graceful close. `stopAccepting` closes the listener. Each connection stops reading, finishes
   * its handlers, writes their answers and ends; after `drainTimeoutMs` the rest are cut.
   */
  close(stopAccepting: () => Promise<void>): Promise<void> {
    this.#closing ??= (async () => {
      const { clock } = this.#settings;
      const allClosed = new Promise<void>((resolve) => {
        this.#allClosed = resolve;
      });
      this.#checkClosed();
      const stopped = stopAccepting();
      for (const channel of this.#channels) {
        channel.drain().then(() => channel.end());
      }
      const timer = clock.setTimeout(() => {
        for (const channel of this.#channels) channel.destroy();
      }, this.#options.drainTimeoutMs ?? 5000);
      await allClosed;
      clock.clearTimeout(timer);
      await stopped;
    })();
    return this.#closing;
  }
}
