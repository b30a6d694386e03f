import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StoreHarness, sqliteHarness } from './helpers/databases.ts';
import { PAN_GREEN } from './helpers/tsp-server.ts';
import {
  addActiveCard,
  createTenant,
  createUser,
  type Harness,
  pairDevice,
  startHarness,
  type UserFixture,
} from './helpers/wallet-harness.ts';

describe('bad input gets 4xx problem details and changes nothing', () => {
  let db: StoreHarness;
  let h: Harness;
  let alice: UserFixture;
  let deviceId: string;
  let cardId: string;
  let endpoints: string[];

  beforeAll(async () => {
    db = await sqliteHarness();
    h = await startHarness(db);
    alice = await createUser(h, await createTenant(h, 'acme'), 'alice@example.com');
    deviceId = (await pairDevice(h, alice)).id;
    cardId = await addActiveCard(h, alice, deviceId, PAN_GREEN);
    endpoints = [
      '/v1/devices/challenges',
      '/v1/devices',
      `/v1/devices/${deviceId}/lost`,
      `/v1/devices/${deviceId}/found`,
      `/v1/devices/${deviceId}/wipe`,
      `/v1/devices/${deviceId}/cards`,
      `/v1/cards/${cardId}/otp`,
      `/v1/cards/${cardId}/provisioning`,
      `/v1/cards/${cardId}/default`,
    ];
  });
  afterAll(async () => {
    await h?.close();
    await db?.teardown();
  });

  const send = (url: string, payload: string, headers: Record<string, string> = {}) =>
    h.app.inject({
      method: 'POST',
      url,
      headers: {
        authorization: `Bearer ${alice.session}`,
        'idempotency-key': `k-${Math.random()}`,
        'content-type': 'application/json',
        ...headers,
      },
      payload,
    });

  function expectProblem(
    response: {
      statusCode: number;
      headers: Record<string, unknown>;
      json(): { code: string; status: number; type: string };
    },
    status: number,
    code: string,
  ) {
    expect(response.statusCode).toBe(status);
    expect(String(response.headers['content-type'])).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ status, code, type: `urn:amulet:problem:${code}` });
  }

  it('refuses unknown fields, wrong types, bad JSON, oversized bodies and other media types', async () => {
    const before = await h.store.snapshot();
    for (const url of endpoints) {
      expectProblem(
        await send(url, JSON.stringify({ purpose: 'register', extra: 1, otp: '123456', responses: [] })),
        400,
        'ERR_VALIDATION',
      );
      expectProblem(await send(url, '{"nope'), 400, 'ERR_BAD_JSON');
      expectProblem(await send(url, JSON.stringify({ x: 'y'.repeat(20_000) })), 413, 'ERR_TOO_LARGE');
      expectProblem(
        await send(url, 'purpose=register', { 'content-type': 'application/x-www-form-urlencoded' }),
        415,
        'ERR_MEDIA_TYPE',
      );
    }
    expectProblem(
      await send(`/v1/cards/${cardId}/otp`, JSON.stringify({ otp: 123456 })),
      400,
      'ERR_VALIDATION',
    );
    expectProblem(
      await send(`/v1/devices/${deviceId}/cards`, JSON.stringify({ encryptedCard: 'x', network: 'visa' })),
      400,
      'ERR_VALIDATION',
    );
    expectProblem(
      await send(
        `/v1/devices/${deviceId}/cards`,
        JSON.stringify({ encryptedCard: 'a.b.c.d.e', network: 'diners' }),
      ),
      400,
      'ERR_VALIDATION',
    );
    const unknownField = await send(`/v1/cards/${cardId}/default`, JSON.stringify({ pan: PAN_GREEN }));
    expectProblem(unknownField, 400, 'ERR_VALIDATION');
    // The problem names the rule and path, never the value it refused.
    expect(unknownField.body).not.toContain(PAN_GREEN);
    expect(await h.store.snapshot()).toEqual(before);
  });

  it('never answers 5xx or changes state for arbitrary JSON bodies on any POST (fast-check)', async () => {
    const before = await h.store.snapshot();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: endpoints.length - 1 }),
        fc.jsonValue({ maxDepth: 3 }),
        async (i, value) => {
          // `{}` is the valid body of lost, wipe and default: everything else is refused.
          fc.pre(
            !(
              typeof value === 'object' &&
              value !== null &&
              !Array.isArray(value) &&
              Object.keys(value).length === 0
            ),
          );
          const response = await send(endpoints[i]!, JSON.stringify(value));
          expect(response.statusCode).toBeGreaterThanOrEqual(400);
          expect(response.statusCode).toBeLessThan(500);
          expect(String(response.headers['content-type'])).toContain('application/problem+json');
        },
      ),
      { numRuns: 300, seed: 7 },
    );
    expect(await h.store.snapshot()).toEqual(before);
  });

  it('refuses forged webhooks: bad signature, other secret, tampered body, stale timestamp, missing headers', async () => {
    const before = await h.store.snapshot();
    const card = (await h.store.getCard({ tenantId: alice.tenant.id, userId: alice.id }, cardId))!;
    const now = Math.floor(h.clock.ms / 1000);
    const good = h.tsp.webhook(
      'token.suspended',
      card.tokenReference,
      new Date(h.clock.ms + 5000),
      { status: 'suspended' },
      now,
    );
    const deliver = (body: string, headers: Record<string, string>) =>
      h.app.inject({ method: 'POST', url: '/v1/webhooks/tsp', headers, payload: body });
    const cases: [string, string, Record<string, string>][] = [
      ['bad signature', good.body, { ...good.headers, 'webhook-signature': 'v1,AAAA' }],
      ['tampered body', good.body.replace('suspended', 'deleted'), good.headers],
      [
        'stale timestamp',
        good.body,
        { ...h.tsp.webhook('token.suspended', card.tokenReference, new Date(), {}, now - 600).headers },
      ],
      ['other id', good.body, { ...good.headers, 'webhook-id': 'msg_other' }],
      [
        'no signature',
        good.body,
        { 'content-type': 'application/json', 'webhook-id': 'x', 'webhook-timestamp': String(now) },
      ],
    ];
    for (const [, body, headers] of cases)
      expectProblem(await deliver(body, headers), 401, 'ERR_WEBHOOK_SIGNATURE');
    expect(await h.store.snapshot()).toEqual(before);
  });
});
