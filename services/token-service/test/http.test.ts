import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { isLuhnValid } from '@amulet/emv';
import { findClearPans } from '@amulet/store';
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { REQUESTOR_HEADER } from '../src/http-api.ts';
import {
  buildHttpApi,
  TokenService,
  type TokenServiceOptions,
  tokenServiceErrors,
  Webhooks,
} from '../src/index.ts';
import { encryptCard, newWearable, OTHER_TRID, startTsp, TRID, type Tsp } from './harness.ts';

const PANS: string[] = [];
let next = 0;
function pan(): string {
  next++;
  const body = `476173${String(900 + next).padStart(9, '0')}`;
  for (let d = 0; d < 10; d++)
    if (isLuhnValid(body + d)) {
      PANS.push(body + d);
      return body + d;
    }
  throw new Error('unreachable');
}

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

describe.each(['sqlite', 'postgres'] as const)('HTTP API on %s', (kind) => {
  let tsp: Tsp;
  let app: FastifyInstance;
  let base: string;
  let webhooks: Webhooks;
  const logs: string[] = [];
  let receiver: Server;
  let receiverUrl: string;
  const received: Received[] = [];
  let failNext = 0;

  beforeAll(async () => {
    tsp = await startTsp(kind, `http-${kind}`);
    await tsp.hsm.generateKey({ keyId: 'webhook-secrets', algorithm: 'aes', length: 32, usage: 'mac' });
    webhooks = new Webhooks({
      store: tsp.handle.store,
      hsm: tsp.hsm,
      world: tsp.world,
      secretKeyId: 'webhook-secrets',
      retryDelayMs: 1000,
    });
    const stream = new Writable({
      write(chunk, _encoding, done) {
        logs.push(String(chunk));
        done();
      },
    });
    app = await buildHttpApi({
      service: tsp.service,
      webhooks,
      provisioner: tsp.provisioner,
      logger: { level: 'info', stream },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += String(c);
      });
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.statusCode = failNext > 0 ? 500 : 204;
        if (failNext > 0) failNext--;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  });

  afterAll(async () => {
    await app.close();
    await new Promise((resolve) => receiver.close(resolve));
    // No clear PAN in the database files, the captured logs or the webhook traffic.
    const texts = [...logs, ...received.map((r) => r.body + JSON.stringify(r.headers))];
    const bytes = [...(await tsp.handle.dump()), ...texts.map((t) => new TextEncoder().encode(t))];
    const found = bytes.flatMap((b) => findClearPans(b)).map((h) => h.digits);
    for (const p of PANS) expect(found).not.toContain(p);
    expect(logs.length).toBeGreaterThan(10);
    await tsp.close();
  });

  // biome-ignore lint/suspicious/noExplicitAny: the tests read JSON bodies field by field
  type Body = any;

  async function call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; type: string; body: Body; headers: Headers }> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        [REQUESTOR_HEADER]: TRID,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      body: text.length > 0 ? JSON.parse(text) : undefined,
      headers: response.headers,
    };
  }

  async function tokenizeBody(card = pan(), serial = 'SN-3000') {
    const wearable = await newWearable(tsp, serial);
    return {
      wearable,
      body: {
        encryptedCard: await encryptCard(tsp, { pan: card, expiry: '3012' }),
        deviceCertificateChain: wearable.chain.map((c) => Buffer.from(c).toString('base64')),
      },
    };
  }

  it('serves an OpenAPI 3.1 document listing every route', async () => {
    const doc = await call('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    for (const path of [
      '/v1/tokens',
      '/v1/tokens/{tokenId}',
      '/v1/tokens/{tokenId}/otp',
      '/v1/tokens/status',
      '/v1/issuer/pan-updates',
      '/v1/tokens/{tokenId}/metadata',
      '/v1/jwe-key',
      '/v1/webhooks/subscriptions',
      '/v1/webhooks/events/{eventId}/replay',
      '/v1/tokens/{tokenId}/provisioning/relay',
    ])
      expect(Object.keys(doc.body.paths)).toContain(path);
  });

  it('Idempotency-Key: required; same body replays the stored response; another body is a 422 problem', async () => {
    const { body } = await tokenizeBody();
    const missing = await call('POST', '/v1/tokens', body);
    expect([missing.status, missing.type, missing.body.code]).toEqual([
      400,
      'application/problem+json; charset=utf-8',
      'ERR_TSP_IDEMPOTENCY_KEY',
    ]);
    const first = await call('POST', '/v1/tokens', body, { 'idempotency-key': 'k-1' });
    expect(first.status).toBe(201);
    const again = await call('POST', '/v1/tokens', body, { 'idempotency-key': 'k-1' });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const other = await call('POST', '/v1/tokens', { ...body, label: 'other' }, { 'idempotency-key': 'k-1' });
    expect([other.status, other.body.code, other.body.type]).toEqual([
      422,
      'ERR_TSP_IDEMPOTENCY_CONFLICT',
      'urn:amulet:problem:err-tsp-idempotency-conflict',
    ]);
  });

  it('Idempotency-Keys are kept 24 hours, then forgotten: the key then runs as a first use', async () => {
    const { body } = await tokenizeBody();
    const other = { ...body, label: 'other' };
    const key = { 'idempotency-key': 'k-retention' };
    expect((await call('POST', '/v1/tokens', body, key)).status).toBe(201);
    const expireAll = async () => {
      let removed = 0;
      for (let more = true; more; ) {
        const round = await tsp.service.expireIdempotencyKeys(2);
        removed += round.removed;
        more = round.more;
      }
      return removed;
    };
    tsp.world.advance(24 * 60 * 60_000 - 60_000);
    await expireAll();
    expect((await call('POST', '/v1/tokens', other, key)).body.code).toBe('ERR_TSP_IDEMPOTENCY_CONFLICT');
    tsp.world.advance(120_000);
    expect(await expireAll()).toBeGreaterThanOrEqual(1);
    const again = await call('POST', '/v1/tokens', other, key);
    expect([again.status, again.headers.get('idempotent-replayed')]).toEqual([201, null]);
    const tooShort = { idempotencyRetentionMs: 1000 } as unknown as TokenServiceOptions;
    expect(() => new TokenService(tooShort)).toThrow(/at least 60000/);
  });

  it('concurrent retries of one tokenization with one Idempotency-Key make exactly one token', async () => {
    const { body, wearable } = await tokenizeBody(pan(), 'SN-3001');
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => call('POST', '/v1/tokens', body, { 'idempotency-key': 'race-1' })),
    );
    for (const r of responses) expect([201, 409]).toContain(r.status);
    expect(responses.filter((r) => r.status === 201).length).toBeGreaterThanOrEqual(1);
    const tokenIds = new Set(responses.filter((r) => r.status === 201).map((r) => r.body.token.tokenId));
    expect(tokenIds.size).toBe(1);
    const deviceId = responses.find((r) => r.status === 201)?.body.token.deviceId;
    const list = await call('GET', `/v1/tokens?deviceId=${deviceId}`);
    expect(list.body.tokens).toHaveLength(1);
    expect(wearable.cert.der.length).toBeGreaterThan(0);
  });

  it('problems: bad input 400, unknown and foreign tokens 404, unknown route 404, all RFC 9457', async () => {
    const bad = await call('POST', '/v1/tokens', { encryptedCard: 1 }, { 'idempotency-key': 'bad-1' });
    expect([bad.status, bad.body.code, bad.body.title]).toEqual([
      400,
      'ERR_TSP_INPUT',
      tokenServiceErrors.ERR_TSP_INPUT.title,
    ]);
    const unknown = await call('GET', '/v1/tokens/tok_000000000000000000000000');
    expect([unknown.status, unknown.body.code]).toEqual([404, 'ERR_TSP_NOT_FOUND']);
    const { body } = await tokenizeBody(pan(), 'SN-3002');
    const created = await call('POST', '/v1/tokens', body, { 'idempotency-key': 'p-1' });
    const foreign = await call('GET', `/v1/tokens/${created.body.token.tokenId}`, undefined, {
      [REQUESTOR_HEADER]: OTHER_TRID,
    });
    expect([foreign.status, foreign.body.code]).toEqual([404, 'ERR_TSP_NOT_FOUND']);
    const card = pan();
    const leaky = await call(
      'POST',
      '/v1/issuer/pan-updates',
      { currentPan: card, newPan: card, newExpiry: 'x' },
      { 'idempotency-key': 'leak-1' },
    );
    expect([leaky.status, leaky.body.code]).toEqual([400, 'ERR_TSP_INPUT']);
    expect(JSON.stringify(leaky.body)).not.toContain(card);
    const unknownCard = await call(
      'POST',
      '/v1/issuer/pan-updates',
      { currentPan: card, newPan: pan(), newExpiry: '3101' },
      { 'idempotency-key': 'leak-2' },
    );
    expect([unknownCard.status, unknownCard.body.code]).toEqual([404, 'ERR_TSP_NOT_FOUND']);
    expect(JSON.stringify(unknownCard.body)).not.toContain(card);
    const route = await call('GET', '/v1/nothing');
    expect([route.status, route.type.split(';')[0]]).toEqual([404, 'application/problem+json']);
    const noHeader = await call('GET', `/v1/tokens/${created.body.token.tokenId}`, undefined, {
      [REQUESTOR_HEADER]: 'x',
    });
    expect(noHeader.status).toBe(400);
  });

  it('the whole flow over HTTP: JWK, tokenize, relay the personalization, lifecycle, signed webhooks with retries and replay', async () => {
    const subscription = await call(
      'POST',
      '/v1/webhooks/subscriptions',
      { url: receiverUrl },
      { 'idempotency-key': 'sub-1' },
    );
    expect(subscription.status).toBe(201);
    expect(subscription.body.secret).toMatch(/^whsec_/);
    const jwk = await call('GET', '/v1/jwe-key');
    expect(jwk.body).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW', use: 'enc' });
    const card = pan();
    const { body, wearable } = await tokenizeBody(card, 'SN-3003');
    const created = await call('POST', '/v1/tokens', body, { 'idempotency-key': 'flow-1' });
    expect(created.body.status).toBe('provisioning');
    const tokenId: string = created.body.token.tokenId;
    let step = await call('POST', `/v1/tokens/${tokenId}/provisioning`, undefined, {
      'idempotency-key': 'prov-1',
    });
    let n = 0;
    while (step.body.state === 'command') {
      const response = wearable.se.transmit(new Uint8Array(Buffer.from(step.body.command, 'base64')));
      step = await call(
        'POST',
        `/v1/tokens/${tokenId}/provisioning/relay`,
        { response: Buffer.from(response).toString('base64') },
        { 'idempotency-key': `relay-${n++}` },
      );
    }
    expect(step.body.state).toBe('confirmed');
    expect(step.body.token.status).toBe('active');
    const meta = await call('PUT', `/v1/tokens/${tokenId}/metadata`, {
      art: 'https://cdn.example/a.png',
      issuerName: 'Test Bank',
    });
    expect(meta.body).toEqual({ art: 'https://cdn.example/a.png', issuerName: 'Test Bank' });
    const suspended = await call(
      'POST',
      '/v1/tokens/status',
      { tokenIds: [tokenId], action: 'suspend', actor: 'cardholder', reason: 'lost' },
      { 'idempotency-key': 'st-1' },
    );
    expect(suspended.body.results).toEqual([{ tokenId, ok: true, status: 'suspended' }]);
    const update = await call(
      'POST',
      '/v1/issuer/pan-updates',
      { currentPan: card, newPan: pan(), newExpiry: '3201' },
      { 'idempotency-key': 'pu-1' },
    );
    expect(update.body.par).toBe(created.body.token.par);

    // Deliveries: the first attempt fails (500), the retry after the backoff succeeds.
    failNext = 1;
    const sent = await webhooks.runDue();
    expect(sent).toBeGreaterThanOrEqual(4);
    expect(await webhooks.runDue()).toBe(0);
    tsp.world.advance(1000);
    await webhooks.runDue();
    const verifier = new Webhook(subscription.body.secret);
    // The verifier checks the timestamp against its clock: give it the service's injected one.
    vi.useFakeTimers({ now: tsp.world.now(), toFake: ['Date'] });
    let types: string[];
    try {
      types = received.map(
        (r) => (verifier.verify(r.body, r.headers as Record<string, string>) as { type: string }).type,
      );
      // A changed body fails verification.
      const one = received[0]!;
      expect(() => verifier.verify(`${one.body} `, one.headers as Record<string, string>)).toThrow();
    } finally {
      vi.useRealTimers();
    }
    for (const t of ['token.created', 'token.activated', 'token.suspended', 'token.pan-updated'])
      expect(types).toContain(t);
    expect(
      received.filter((r) => r.headers['webhook-id'] === received[0]?.headers['webhook-id']).length,
    ).toBe(2);
    const activated = received.find((r) => JSON.parse(r.body).type === 'token.activated')!;
    const eventId = String(activated.headers['webhook-id']);
    const before = received.length;
    const replay = await call('POST', `/v1/webhooks/events/${eventId}/replay`, undefined, {
      'idempotency-key': 'rp-1',
    });
    expect(replay.body).toEqual({ eventId, deliveries: 1 });
    expect(await webhooks.runDue()).toBe(1);
    expect(received.length).toBe(before + 1);
    expect(received.at(-1)?.headers['webhook-id']).toBe(eventId);
    const foreignReplay = await call('POST', `/v1/webhooks/events/${eventId}/replay`, undefined, {
      'idempotency-key': 'rp-2',
      [REQUESTOR_HEADER]: OTHER_TRID,
    });
    expect(foreignReplay.status).toBe(404);

    // Thirty days on, the delivered event is gone: its replay is a 404 like an unknown one.
    tsp.world.advance(30 * 24 * 60 * 60_000 + 60_000);
    let removed = 0;
    for (let more = true; more; ) {
      const round = await webhooks.expire(2);
      removed += round.removed;
      more = round.more;
    }
    expect(removed).toBeGreaterThanOrEqual(4);
    const expired = await call('POST', `/v1/webhooks/events/${eventId}/replay`, undefined, {
      'idempotency-key': 'rp-3',
    });
    expect([expired.status, expired.body.code]).toEqual([404, 'ERR_TSP_NOT_FOUND']);
    expect(
      () =>
        new Webhooks({
          store: tsp.handle.store,
          hsm: tsp.hsm,
          world: tsp.world,
          secretKeyId: 'x',
          eventRetentionMs: 60_000,
        }),
    ).toThrow(/at least a day/);
  });
});
