import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StoreHarness, sqliteHarness } from './helpers/databases.ts';
import { PAN_GREEN, PAN_YELLOW } from './helpers/tsp-server.ts';
import {
  addActiveCard,
  createTenant,
  createUser,
  encryptCard,
  type Harness,
  pairDevice,
  post,
  startHarness,
  type UserFixture,
} from './helpers/wallet-harness.ts';

describe('Idempotency-Key on every POST (Stripe semantics)', () => {
  let db: StoreHarness;
  let h: Harness;
  let alice: UserFixture;
  let deviceId: string;

  beforeAll(async () => {
    db = await sqliteHarness();
    h = await startHarness(db);
    alice = await createUser(h, await createTenant(h, 'acme'), 'alice@example.com');
    deviceId = (await pairDevice(h, alice)).id;
  });
  afterAll(async () => {
    await h?.close();
    await db?.teardown();
  });

  it('refuses a POST without a key, and changes nothing', async () => {
    const before = await h.store.snapshot();
    const response = await h.app.inject({
      method: 'POST',
      url: `/v1/devices/${deviceId}/lost`,
      headers: { authorization: `Bearer ${alice.session}` },
      payload: {},
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('ERR_IDEMPOTENCY_KEY_MISSING');
    expect(await h.store.snapshot()).toEqual(before);
  });

  it('replays the stored answer for the same key and body: one card, one tokenization at the TSP', async () => {
    const body = { encryptedCard: await encryptCard(h, PAN_GREEN), network: 'visa' };
    const tokenizations = () =>
      h.tsp.calls.filter((c) => c.path === '/v1/tokens' && c.method === 'POST').length;
    const before = tokenizations();
    const first = await post(h, alice, `/v1/devices/${deviceId}/cards`, body, 'key-digitize-1');
    const second = await post(h, alice, `/v1/devices/${deviceId}/cards`, body, 'key-digitize-1');
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.body).toBe(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(tokenizations() - before).toBe(1);
    expect((await h.store.listCards({ tenantId: alice.tenant.id, userId: alice.id })).length).toBe(1);
  });

  it('refuses the same key with another body (422) and answers a key in flight with 409', async () => {
    const other = await post(
      h,
      alice,
      `/v1/devices/${deviceId}/cards`,
      { encryptedCard: await encryptCard(h, PAN_GREEN), network: 'visa' },
      'key-digitize-1',
    );
    expect(other.statusCode).toBe(422);
    expect(other.json().code).toBe('ERR_IDEMPOTENCY_MISMATCH');
    h.tsp.delayMs = 100;
    try {
      const [a, b] = await Promise.all([
        post(h, alice, `/v1/devices/${deviceId}/lost`, {}, 'key-lost-1'),
        new Promise((r) => setTimeout(r, 30)).then(() =>
          post(h, alice, `/v1/devices/${deviceId}/lost`, {}, 'key-lost-1'),
        ),
      ]);
      expect([a.statusCode, b.statusCode].sort()).toEqual([200, 409]);
      expect(b.json().code).toBe('ERR_IDEMPOTENCY_IN_PROGRESS');
    } finally {
      h.tsp.delayMs = 0;
    }
    const replay = await post(h, alice, `/v1/devices/${deviceId}/lost`, {}, 'key-lost-1');
    expect(replay.statusCode).toBe(200);
    expect(replay.json().state).toBe('lost');
  });

  it('does not keep a 5xx answer, so a retry with the same key runs again', async () => {
    const { id } = await pairDevice(h, alice);
    h.tsp.failLifecycle = true;
    const failed = await post(h, alice, `/v1/devices/${id}/wipe`, {}, 'key-wipe-1');
    h.tsp.failLifecycle = false;
    // No token yet on this device: nothing to delete, so the TSP is not called and the wipe succeeds.
    expect([200, 502]).toContain(failed.statusCode);
    const retried = await post(h, alice, `/v1/devices/${id}/wipe`, {}, 'key-wipe-1');
    expect(retried.statusCode).toBe(200);
  });

  it('replays the default switch, whose key is claimed in the same transaction as the switch', async () => {
    const { id } = await pairDevice(h, alice);
    const first = await addActiveCard(h, alice, id, PAN_GREEN);
    const second = await addActiveCard(h, alice, id, PAN_GREEN);
    const commands = async () => (await h.store.pendingCommands(alice.tenant.id, id)).length;
    const switched = await post(h, alice, `/v1/cards/${second}/default`, {}, 'key-default-1');
    expect(switched.statusCode).toBe(200);
    const queued = await commands();
    await post(h, alice, `/v1/cards/${first}/default`, {}, 'key-default-2');
    const replay = await post(h, alice, `/v1/cards/${second}/default`, {}, 'key-default-1');
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toBe(switched.body);
    // The replay changed nothing: the first card is still the default, no command was queued.
    expect((await h.store.getCard({ tenantId: alice.tenant.id, userId: alice.id }, first))?.isDefault).toBe(
      true,
    );
    expect(await commands()).toBe(queued + 1);
    const other = await post(h, alice, `/v1/cards/${first}/default`, {}, 'key-default-1');
    expect(other.statusCode).toBe(422);
  });

  it('scopes keys per caller: another user with the same key is not replayed', async () => {
    const bob = await createUser(h, alice.tenant, 'bob@example.com');
    const bobs = await post(h, bob, '/v1/devices/challenges', { purpose: 'register' }, 'shared-key');
    const alices = await post(h, alice, '/v1/devices/challenges', { purpose: 'register' }, 'shared-key');
    expect(bobs.statusCode).toBe(201);
    expect(alices.statusCode).toBe(201);
    expect(alices.json().nonce).not.toBe(bobs.json().nonce);
  });
});

describe('tenant policy and step-up refusals', () => {
  let db: StoreHarness;
  let h: Harness;
  let alice: UserFixture;
  let deviceId: string;

  beforeAll(async () => {
    db = await sqliteHarness();
    h = await startHarness(db, { seed: 'policy' });
    alice = await createUser(h, await createTenant(h, 'acme'), 'alice@example.com');
    deviceId = (await pairDevice(h, alice)).id;
  });
  afterAll(async () => {
    await h?.close();
    await db?.teardown();
  });

  it('refuses a network the tenant does not allow, before anything reaches the TSP', async () => {
    const oem = { authorization: `Bearer ${alice.tenant.apiKey}` };
    const patched = await h.app.inject({
      method: 'PATCH',
      url: '/v1/tenant',
      headers: oem,
      payload: { allowedNetworks: ['mastercard'] },
    });
    expect(patched.json().allowedNetworks).toEqual(['mastercard']);
    const calls = h.tsp.calls.length;
    const refused = await post(h, alice, `/v1/devices/${deviceId}/cards`, {
      encryptedCard: await encryptCard(h, PAN_GREEN),
      network: 'visa',
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().code).toBe('ERR_NETWORK_NOT_ALLOWED');
    expect(h.tsp.calls.length).toBe(calls);
  });

  it('refuses a wrong OTP with ERR_OTP and keeps the card waiting for the right one', async () => {
    const oem = { authorization: `Bearer ${alice.tenant.apiKey}` };
    await h.app.inject({
      method: 'PATCH',
      url: '/v1/tenant',
      headers: oem,
      payload: { allowedNetworks: ['visa'] },
    });
    const card = (
      await post(h, alice, `/v1/devices/${deviceId}/cards`, {
        encryptedCard: await encryptCard(h, PAN_YELLOW),
        network: 'visa',
      })
    ).json();
    expect(card.status).toBe('pending-otp');
    const wrong = await post(h, alice, `/v1/cards/${card.id}/otp`, { otp: '999999' });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json().code).toBe('ERR_OTP');
    expect((await post(h, alice, `/v1/cards/${card.id}/otp`, { otp: '123456' })).json().status).toBe(
      'provisioning',
    );
  });
});
