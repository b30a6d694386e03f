import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { SecureElementError } from './secure-element-error.ts';
import type { SeTransport } from './transport.ts';

/**
 * The SE over a WebSocket (RFC 6455): each binary message from the client is one command APDU,
 * each binary message back is its response APDU, in order. The server runs on the wearable's
 * side, the client on the host's (a terminal, a test bench, the `amulet se` command).
 */

/** The largest message: an extended APDU (ISO/IEC 7816-4 5.1: 4 + 3 + 65,535 + 2 bytes). The SE answers 6700 to it. */
export const WEBSOCKET_MESSAGE_BYTES_MAX = 65_544;
export const WEBSOCKET_TIMEOUT_MS_DEFAULT = 5_000;

/** Close codes (RFC 6455 7.4.1): 1003 for a text message, 1013 when a reader is already connected. */
const CLOSE_UNSUPPORTED_DATA = 1003;
const CLOSE_TRY_AGAIN_LATER = 1013;

export interface WebSocketSeServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves one SE to one reader at a time, like a contactless field: a second connection is closed
 * with 1013 while the first is open. `transmit` never throws (SecureElement.transmit).
 */
export async function webSocketSeServer(
  transmit: (apdu: Uint8Array) => Uint8Array,
  options: { readonly host?: string; readonly port?: number } = {},
): Promise<WebSocketSeServer> {
  const host = options.host ?? '127.0.0.1';
  const server = new WebSocketServer({
    host,
    port: options.port ?? 0,
    maxPayload: WEBSOCKET_MESSAGE_BYTES_MAX,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  let reader: WebSocket | undefined;
  server.on('connection', (socket) => {
    // A reader that has begun closing has left the field: the next one may come in.
    if (reader !== undefined && reader.readyState === WebSocket.OPEN) {
      socket.close(CLOSE_TRY_AGAIN_LATER, 'one reader at a time');
      return;
    }
    reader = socket;
    socket.on('close', () => {
      if (reader === socket) reader = undefined;
    });
    socket.on('error', () => socket.terminate());
    socket.on('message', (data, isBinary) => {
      if (!isBinary) {
        socket.close(CLOSE_UNSUPPORTED_DATA, 'binary APDUs only');
        return;
      }
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      socket.send(transmit(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length).slice()), {
        binary: true,
      });
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

/**
 * Connects to an SE served over WebSocket. `transmit` sends one APDU and resolves with the next
 * response; calls may overlap (they are answered in order). A response that does not come within
 * `timeoutMs`, or a closed connection, rejects with `ERR_SE_TRANSPORT`.
 */
export async function webSocketTransport(
  url: string,
  options: { readonly timeoutMs?: number } = {},
): Promise<SeTransport> {
  const timeoutMs = options.timeoutMs ?? WEBSOCKET_TIMEOUT_MS_DEFAULT;
  const socket = new WebSocket(url, { maxPayload: WEBSOCKET_MESSAGE_BYTES_MAX });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', () =>
      reject(new SecureElementError('ERR_SE_TRANSPORT', 'cannot connect to the SE')),
    );
  });
  const waiting: { resolve(r: Uint8Array): void; reject(e: Error): void; timer: NodeJS.Timeout }[] = [];
  const failAll = (message: string) => {
    for (const w of waiting.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new SecureElementError('ERR_SE_TRANSPORT', message));
    }
  };
  socket.on('message', (data) => {
    const next = waiting.shift();
    if (next === undefined) return;
    clearTimeout(next.timer);
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    next.resolve(new Uint8Array(bytes));
  });
  socket.on('close', () => failAll('the connection to the SE closed'));
  socket.on('error', () => failAll('the connection to the SE failed'));
  return {
    transmit: (apdu) =>
      new Promise<Uint8Array>((resolve, reject) => {
        if (socket.readyState !== WebSocket.OPEN) {
          reject(new SecureElementError('ERR_SE_TRANSPORT', 'the connection to the SE is closed'));
          return;
        }
        const timer = setTimeout(() => {
          failAll('the SE did not answer in time');
          socket.terminate();
        }, timeoutMs);
        waiting.push({ resolve, reject, timer });
        socket.send(apdu, { binary: true });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (socket.readyState === WebSocket.CLOSED) {
          resolve();
          return;
        }
        socket.once('close', () => resolve());
        socket.close();
      }),
  };
}
