import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compactDecrypt, exportJWK, generateKeyPair } from 'jose';

type KeyLike = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

import { signStandardWebhook } from '../../src/index.ts';

/** Test card numbers (Luhn-valid): the fake TSP decides ID&V by the PAN, as an issuer would. */
export const PAN_GREEN = '4111111111111111';
export const PAN_YELLOW = '4012888888881881';
export const PAN_RED = '4000056655665556';
export const TEST_CVV = '737';

interface FakeToken {
  tokenId: string;
  status: 'inactive' | 'active' | 'suspended' | 'deleted';
  lastFour: string;
  deviceId: string;
  requestorTrid: string;
  dpan: string;
  provisioningRound: number;
}

export interface RecordedCall {
  readonly method: string;
  readonly path: string;
  readonly idempotencyKey: string | undefined;
  readonly requestBody: string;
  readonly responseBody: string;
  readonly at: number;
}

/**
 * A small real HTTP server that speaks the token service's HTTP contract as the wallet uses it
 * (services/token-service/src/api-schemas.ts; services/wallet/src/tsp-client.ts) for tests: it decrypts the companion's JWE with its own key (so it holds the PAN, as a TSP does),
 * issues tokens, records every request and response byte for the zero-knowledge scan, and records
 * when each status change committed. `delayMs` slows lifecycle answers to prove the wallet waits.
 */
export class FakeTsp {
  readonly calls: RecordedCall[] = [];
  readonly tokens = new Map<string, FakeToken>();
  /** tokenId -> time the suspension committed here. */
  readonly suspendedAt = new Map<string, number>();
  readonly webhookSecret = `whsec_${Buffer.from('fake tsp webhook secret 32 bytes').toString('base64')}`;
  delayMs = 0;
  /** Tokens this TSP will not resume (as when the issuer holds them). */
  readonly refuseResume = new Set<string>();
  failLifecycle = false;
  #server: Server | undefined;
  #privateKey: KeyLike | undefined;
  #jwk: Record<string, string> | undefined;
  #next = 1;
  #otp = '123456';
  #idempotent = new Map<string, string>();
  url = '';

  async start(): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair('ECDH-ES+A256KW', {
      crv: 'P-256',
      extractable: true,
    });
    this.#privateKey = privateKey;
    this.#jwk = {
      ...(await exportJWK(publicKey)),
      alg: 'ECDH-ES+A256KW',
      use: 'enc',
      kid: 'tsp-jwe-1',
    } as unknown as Record<string, string>;
    this.#server = createServer((req, res) => {
      void this.#handle(req).then(
        ({ status, body }) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(body);
        },
        () => {
          res.writeHead(500);
          res.end('{}');
        },
      );
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }

  get jwk(): Record<string, string> {
    return this.#jwk!;
  }

  /** A signed webhook about a token, as the TSP would send it (Standard Webhooks headers). */
  webhook(type: string, tokenId: string, at: Date, data: Record<string, unknown>, nowSeconds: number) {
    const id = `msg_${this.#next++}`;
    const body = JSON.stringify({ type, tokenId, at: at.toISOString(), data });
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(nowSeconds),
        'webhook-signature': signStandardWebhook(this.webhookSecret, id, nowSeconds, body),
      },
    };
  }

  async #handle(req: IncomingMessage): Promise<{ status: number; body: string }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const requestBody = Buffer.concat(chunks).toString('utf8');
    const key = req.headers['idempotency-key'] as string | undefined;
    const url = new URL(req.url ?? '/', 'http://x');
    let result: { status: number; body: string };
    const replay = key === undefined ? undefined : this.#idempotent.get(key);
    if (replay !== undefined) result = { status: 200, body: replay };
    else {
      result = await this.#route(
        req.method ?? 'GET',
        url,
        requestBody,
        String(req.headers['amulet-token-requestor'] ?? ''),
      );
      if (key !== undefined && result.status < 500) this.#idempotent.set(key, result.body);
    }
    this.calls.push({
      method: req.method ?? '',
      path: url.pathname,
      idempotencyKey: key,
      requestBody,
      responseBody: result.body,
      at: performance.now(),
    });
    return result;
  }

  async #route(
    method: string,
    url: URL,
    raw: string,
    trid: string,
  ): Promise<{ status: number; body: string }> {
    const json = (status: number, value: unknown) => ({ status, body: JSON.stringify(value) });
    const body = raw.length > 0 ? JSON.parse(raw) : undefined;
    const parts = url.pathname.split('/').filter(Boolean);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (method === 'GET' && url.pathname === '/v1/jwe-key') return json(200, this.jwk);
    if (method === 'POST' && url.pathname === '/v1/tokens') {
      let card: { pan: string; expiry: string; cvv?: string };
      try {
        const { plaintext } = await compactDecrypt(body.encryptedCard, this.#privateKey!);
        card = JSON.parse(new TextDecoder().decode(plaintext));
      } catch {
        return json(400, { code: 'ERR_TSP_CARD_DATA' });
      }
      if (card.pan === PAN_RED) return json(200, { status: 'declined', reason: 'issuer-declined' });
      // The token service's format, tok_ and 24 hex digits; every fourth one a letter here, so no
      // long run of decimal digits can look like a card number to the scanner.
      const hex = createHash('sha256')
        .update(`token ${this.#next++}`)
        .digest('hex')
        .slice(0, 24);
      const tokenId = `tok_${[...hex].map((c, i) => (i % 4 === 3 ? 'abcdef'[Number.parseInt(c, 16) % 6] : c)).join('')}`;
      const dpan = `4895370${String(this.#next).padStart(9, '0')}`;
      const token: FakeToken = {
        tokenId,
        status: 'inactive',
        lastFour: card.pan.slice(-4),
        deviceId: createFingerprint(body.deviceCertificateChain[0]),
        requestorTrid: trid,
        dpan,
        provisioningRound: 0,
      };
      this.tokens.set(tokenId, token);
      return json(201, { status: card.pan === PAN_YELLOW ? 'step-up' : 'provisioning', token: view(token) });
    }
    if (method === 'GET' && url.pathname === '/v1/tokens') {
      const device = url.searchParams.get('deviceId');
      const found = [...this.tokens.values()].filter(
        (t) => t.deviceId === device && t.requestorTrid === trid,
      );
      return json(200, { tokens: found.map(view) });
    }
    if (method === 'POST' && url.pathname === '/v1/tokens/status') {
      if (this.failLifecycle) return json(503, { code: 'ERR_UNAVAILABLE' });
      const to = { suspend: 'suspended', resume: 'active', delete: 'deleted' } as const;
      const outcomes = (body.tokenIds as string[]).map((tokenId) => {
        const token = this.tokens.get(tokenId);
        if (token === undefined || token.requestorTrid !== trid)
          return { tokenId, ok: false, problem: 'not-found' };
        const action = body.action as keyof typeof to;
        const allowed =
          (action === 'suspend' && token.status === 'active') ||
          (action === 'resume' && token.status === 'suspended' && !this.refuseResume.has(tokenId)) ||
          (action === 'delete' && token.status !== 'deleted');
        if (!allowed) return { tokenId, ok: false, problem: 'not-allowed' };
        token.status = to[action];
        if (action === 'suspend') this.suspendedAt.set(tokenId, performance.now());
        return { tokenId, ok: true, status: token.status };
      });
      return json(200, { results: outcomes });
    }
    if (parts[0] === 'v1' && parts[1] === 'tokens' && parts[2] !== undefined) {
      const token = this.tokens.get(parts[2]);
      if (token === undefined) return json(404, { code: 'ERR_NOT_FOUND' });
      if (method === 'GET' && parts.length === 3) return json(200, view(token));
      if (method === 'GET' && parts[3] === 'metadata')
        return json(200, { art: 'https://art.example/test-bank-classic.png', issuerName: 'Test Bank' });
      if (method === 'POST' && parts[3] === 'otp') {
        if (body.otp !== this.#otp) return json(422, { code: 'ERR_TSP_OTP' });
        return json(200, { status: 'provisioning', token: view(token) });
      }
      if (method === 'POST' && parts[3] === 'provisioning') {
        // Two "SCP11" command APDUs (fixed bytes here), one per step, then the token turns active.
        if (parts[4] === 'relay' && typeof body?.response !== 'string')
          return json(400, { code: 'ERR_TSP_INPUT' });
        token.provisioningRound++;
        if (token.provisioningRound <= 2) {
          const command = Buffer.from(
            `80E2${String(token.provisioningRound).padStart(2, '0')}00${'AB'.repeat(8)}`,
            'hex',
          );
          return json(200, { state: 'command', command: command.toString('base64') });
        }
        token.status = 'active';
        return json(200, { state: 'confirmed', token: view(token) });
      }
    }
    return json(404, { code: 'ERR_NOT_FOUND' });
  }
}

function createFingerprint(leafB64: string): string {
  return createHash('sha256').update(Buffer.from(leafB64, 'base64')).digest('hex');
}

function view(t: FakeToken) {
  return {
    tokenId: t.tokenId,
    status: t.status,
    lastFour: t.lastFour,
    network: 'visa',
    issuerName: 'Test Bank',
  };
}
