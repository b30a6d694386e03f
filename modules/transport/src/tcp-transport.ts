import { connect, createServer, type Server, type Socket } from 'node:net';
import { systemClock } from './clock.ts';
import type { FrameOptions } from './encode-frame.ts';
import {
  checkMaxFrameBytes,
  defaultLengthHeader,
  defaultMaxFrameBytes,
  type LengthHeader,
} from './length-header.ts';
import type { MessageCodec } from './message-codec.ts';
import { ReconnectingClient } from './reconnecting-client.ts';
import { ServerCore } from './server-core.ts';
import { TcpLink } from './tcp-link.ts';
import type {
  ClientOptions,
  ServerOptions,
  Transport,
  TransportClient,
  TransportServer,
} from './transport.ts';
import { TransportError } from './transport-error.ts';

export interface TcpEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface TcpTransportOptions<M> {
  readonly codec: MessageCodec<M>;
  /** Length header in front of each message; default `binary-2`. */
  readonly header?: LengthHeader;
  /** Largest message accepted or sent; default 8192 bytes. */
  readonly maxFrameBytes?: number;
  /** A connection attempt that takes longer fails (and is retried with backoff); default 5000 ms. */
  readonly connectTimeoutMs?: number;
}

/** ISO 8583 over TCP: persistent connections, length-prefixed frames. */
export function createTcpTransport<M>(options: TcpTransportOptions<M>): Transport<M, TcpEndpoint> {
  const header = options.header ?? defaultLengthHeader;
  const maxFrameBytes = checkMaxFrameBytes(header, options.maxFrameBytes ?? defaultMaxFrameBytes);
  const frames: FrameOptions = { header, maxFrameBytes };
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  let clients = 0;
  let servers = 0;

  return {
    async listen(
      serverOptions: ServerOptions<M>,
      endpoint?: TcpEndpoint,
    ): Promise<TransportServer<M, TcpEndpoint>> {
      const name = `tcp-server-${++servers}`;
      const core = new ServerCore<M>({ codec: options.codec, maxFrameBytes, name }, serverOptions);
      const server: Server = createServer((socket) => core.accept(new TcpLink(socket, frames)));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(endpoint?.port ?? 0, endpoint?.host ?? '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      // After listening, a listener error (rare: e.g. too many open files) must not crash the process.
      server.on('error', () => {});
      const address = server.address();
      if (address === null || typeof address === 'string') {
        throw new TransportError('ERR_OPTIONS', 'the server did not bind to a TCP address');
      }
      return {
        endpoint: { host: address.address, port: address.port },
        metrics: core.metrics,
        connections: () => core.connections(),
        close: () => core.close(() => new Promise<void>((resolve) => server.close(() => resolve()))),
      };
    },

    connect(endpoint: TcpEndpoint, clientOptions: ClientOptions<M> = {}): TransportClient<M> {
      const clock = clientOptions.clock ?? systemClock;
      const dial = () =>
        new Promise<TcpLink>((resolve, reject) => {
          const socket: Socket = connect({ host: endpoint.host, port: endpoint.port });
          const timer = clock.setTimeout(() => {
            socket.destroy(new TransportError('ERR_CONNECT_FAILED', 'connection attempt timed out'));
          }, connectTimeoutMs);
          const failed = (error: Error) => {
            clock.clearTimeout(timer);
            reject(error);
          };
          socket.once('error', failed);
          socket.once('connect', () => {
            clock.clearTimeout(timer);
            socket.off('error', failed);
            resolve(new TcpLink(socket, frames));
          });
        });
      return new ReconnectingClient<M>(
        { codec: options.codec, maxFrameBytes, dial, name: `tcp-client-${++clients}` },
        clientOptions,
      );
    },
  };
}
