import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

/** What serves the phone link: one message in, one reply out (the companion's `WearableTransport`). */
export interface WearableLinkEndpoint {
  exchange(message: Uint8Array): Promise<Uint8Array>;
}

export interface WearableLinkServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The largest message: a WearableHello with three 2 KiB certificates, or a full secure-link record. */
export const LINK_MESSAGE_BYTES_MAX = 16_384 + 64;

/** Close codes (RFC 6455 7.4.1): 1003 for a text message, 1008 for a message the wearable refuses, 1013 when busy. */
const CLOSE_UNSUPPORTED_DATA = 1003;
const CLOSE_POLICY_VIOLATION = 1008;
const CLOSE_TRY_AGAIN_LATER = 1013;

/**
 * The phone link over a WebSocket (RFC 6455), as BLE would carry it on a real band: each binary
 * message from the phone is one secure-link message, each binary message back is the wearable's
 * reply (empty for PhoneFinished), in order. One phone at a time; a message the wearable refuses
 * (out of order, a record that fails to open) closes the connection with 1008 and no detail.
 */
export async function serveWearableLink(
  endpoint: WearableLinkEndpoint,
  options: { readonly host?: string; readonly port?: number } = {},
): Promise<WearableLinkServer> {
  const host = options.host ?? '127.0.0.1';
  const server = new WebSocketServer({ host, port: options.port ?? 0, maxPayload: LINK_MESSAGE_BYTES_MAX });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  let phone: WebSocket | undefined;
  server.on('connection', (socket) => {
    if (phone !== undefined && phone.readyState === WebSocket.OPEN) {
      socket.close(CLOSE_TRY_AGAIN_LATER, 'one phone at a time');
      return;
    }
    phone = socket;
    // Messages are answered strictly in order, each after the previous one finished.
    let queue = Promise.resolve();
    socket.on('close', () => {
      if (phone === socket) phone = undefined;
    });
    socket.on('error', () => socket.terminate());
    socket.on('message', (data, isBinary) => {
      if (!isBinary) {
        socket.close(CLOSE_UNSUPPORTED_DATA, 'binary messages only');
        return;
      }
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      const message = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length).slice();
      queue = queue.then(async () => {
        if (socket.readyState !== WebSocket.OPEN) return;
        try {
          socket.send(await endpoint.exchange(message), { binary: true });
        } catch {
          socket.close(CLOSE_POLICY_VIOLATION, 'refused');
        }
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
