import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventHub } from '../event-hub.ts';
import { sha256Hex } from '../secrets.ts';
import { WalletError } from '../wallet-error.ts';
import type { Owner } from '../wallet-store.ts';

/** The calling user as an owner (routes with `auth: 'user'` only). */
export function ownerOf(request: FastifyRequest): Owner {
  const p = request.principal;
  if (p.kind !== 'user') throw new WalletError('ERR_UNAUTHORIZED');
  return { tenantId: p.tenantId, userId: p.userId };
}

export function tenantOf(request: FastifyRequest): string {
  const p = request.principal;
  if (p.kind !== 'user' && p.kind !== 'oem') throw new WalletError('ERR_UNAUTHORIZED');
  return p.tenantId;
}

/** The key the wallet sends to the TSP for this request: a retry of the same request sends the same key. */
export function downstreamKey(request: FastifyRequest, purpose: string): string {
  const idem = request.idempotency;
  const base = idem === undefined ? `${request.id}` : `${idem.scope}\n${idem.key}`;
  return `wal_${sha256Hex(base, '\n', purpose).slice(0, 40)}`;
}

export const notFound = (): WalletError => new WalletError('ERR_NOT_FOUND');

/** Opens a server-sent event stream (WHATWG HTML "Server-sent events") on the hub's channel. */
export function openEventStream(hub: EventHub, channel: string, reply: FastifyReply): void {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
  });
  raw.write(': open\n\n');
  if (!hub.subscribe(channel, raw)) raw.end();
}

export function decodeBase64(value: string): Uint8Array {
  return new Uint8Array(Buffer.from(value.replaceAll('-', '+').replaceAll('_', '/'), 'base64'));
}
