import type { BackoffOptions } from './backoff-delay.ts';
import type { Clock } from './clock.ts';
import type { TransportEventListener } from './transport-event.ts';
import type { TransportMetrics } from './transport-metrics.ts';

export interface RequestOptions {
  /** Milliseconds to wait for the response; defaults to the client's `defaultTimeoutMs`. */
  readonly timeoutMs?: number;
  /**
   * This request repeats one that timed out (an ISO 8583 repeat such as 0421 after 0420): it may
   * reuse the key still held for the late response, and a late response to either copy answers it.
   */
  readonly retransmission?: boolean;
}

/** One connection as its owner sees it: the peer can be asked for something too. */
export interface Connection<M> {
  readonly connectionId: string;
  readonly remoteAddress: string | undefined;
  /** Sends a request to the peer on this connection (e.g. a network management 0800). */
  request(message: M, options?: RequestOptions): Promise<M>;
}

/** Passed to a handler with each request: the connection it came on. */
export type HandlerContext<M> = Connection<M>;

/**
 * Answers a request: the returned message is written on the connection the request came on;
 * `undefined` answers nothing. A throw or rejection is reported (`handler-error`) and answers nothing.
 */
export type MessageHandler<M> = (
  message: M,
  context: HandlerContext<M>,
) => Promise<M | undefined> | M | undefined;

/**
 * Offered a frame whose content the codec rejected, with the codec's error; may return a message
 * to send back (e.g. an ISO 8583 response with a format-error response code).
 */
export type MalformedHandler<M> = (
  frame: Uint8Array,
  error: unknown,
  context: HandlerContext<M>,
) => Promise<M | undefined> | M | undefined;

/** Options shared by both ends of a connection. */
export interface EndpointOptions<M> {
  readonly clock?: Clock;
  readonly onEvent?: TransportEventListener;
  /** Outgoing requests in flight at once (per client, or per server connection); default 256. */
  readonly maxInFlight?: number;
  /** Incoming requests handled at once per connection; as many more may wait, then reading pauses. Default 64. */
  readonly maxHandlersInFlight?: number;
  /** Default request timeout; default 30 000 ms. */
  readonly defaultTimeoutMs?: number;
  /** How long the key of a timed-out request stays reserved for its late response; default 60 000 ms. */
  readonly lateResponseWindowMs?: number;
  readonly onMalformed?: MalformedHandler<M>;
}

export interface ServerOptions<M> extends EndpointOptions<M> {
  readonly handler: MessageHandler<M>;
  /** On close, how long in-flight handlers may run before their connections are cut; default 5000 ms. */
  readonly drainTimeoutMs?: number;
  /** Connections accepted at once; more are closed on arrival. Default 1024. */
  readonly maxConnections?: number;
}

export interface ReconnectOptions extends BackoffOptions {
  /** Reconnection attempts in a row that may fail before the client gives up (ERR_CONNECT_FAILED); default unlimited. */
  readonly maxAttempts?: number;
}

export interface ClientOptions<M> extends EndpointOptions<M> {
  /** Takes unsolicited requests from the peer (e.g. 0800 echo tests); without it they are dropped. */
  readonly handler?: MessageHandler<M>;
  /** While disconnected: `fail` rejects at once with ERR_NOT_CONNECTED (default); `wait` holds the request until connected or timed out. */
  readonly whenDisconnected?: 'fail' | 'wait';
  readonly reconnect?: ReconnectOptions;
  /** Uniform [0, 1) source for backoff jitter; default Math.random. */
  readonly random?: () => number;
}

export interface TransportServer<M, E> {
  readonly endpoint: E;
  readonly metrics: TransportMetrics;
  /** The open connections, to send requests to a peer outside a handler. */
  connections(): readonly Connection<M>[];
  /** Stops accepting, lets in-flight handlers finish and their responses go out, then closes every connection. */
  close(): Promise<void>;
}

export interface TransportClient<M> {
  readonly metrics: TransportMetrics;
  readonly isConnected: boolean;
  /** Requests in flight or waiting for a connection. */
  readonly inFlight: number;
  request(message: M, options?: RequestOptions): Promise<M>;
  /** Resolves once connected (at once when already connected); rejects if the client closes or gives up. */
  connected(): Promise<void>;
  /** Rejects everything in flight with ERR_CLOSED, stops reconnecting and closes the connection. */
  close(): Promise<void>;
}

/** A way to carry messages: TCP (`createTcpTransport`) or in memory (`createMemoryTransport`). */
export interface Transport<M, E> {
  listen(options: ServerOptions<M>, endpoint?: E): Promise<TransportServer<M, E>>;
  connect(endpoint: E, options?: ClientOptions<M>): TransportClient<M>;
}
