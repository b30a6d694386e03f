import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StoreHarness, sqliteHarness } from './helpers/databases.ts';
import { PAN_GREEN } from './helpers/tsp-server.ts';
import {
  addActiveCard,
  createTenant,
  createUser,
  type Harness,
  pairDevice,
  post,
  startHarness,
  type UserFixture,
} from './helpers/wallet-harness.ts';

/** Reads server-sent events from a real socket until `count` events arrived. */
async function collect(url: string, session: string, count: number, action: () => Promise<void>) {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${session}` },
    signal: controller.signal,
  });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const reader = response.body!.getReader();
  const events: { type: string; data: Record<string, unknown> }[] = [];
  let buffer = '';
  await reader.read(); // the opening comment
  const done = (async () => {
    while (events.length < count) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      buffer += new TextDecoder().decode(value);
      let cut = buffer.indexOf('\n\n');
      while (cut >= 0) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const type = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (type !== undefined && data !== undefined) events.push({ type, data: JSON.parse(data) });
        cut = buffer.indexOf('\n\n');
      }
    }
  })();
  await action();
  await done;
  controller.abort();
  return events;
}

describe('TSP webhooks applied once and in order, and pushed over server-sent events', () => {
  let db: StoreHarness;
  let h: Harness;
  let alice: UserFixture;
  let deviceId: string;
  let cardId: string;
  let tokenId: string;
  let base: string;

  beforeAll(async () => {
    db = await sqliteHarness();
    h = await startHarness(db);
    alice = await createUser(h, await createTenant(h, 'acme'), 'alice@example.com');
    deviceId = (await pairDevice(h, alice)).id;
    cardId = await addActiveCard(h, alice, deviceId, PAN_GREEN);
    tokenId = (await h.store.getCard({ tenantId: alice.tenant.id, userId: alice.id }, cardId))!
      .tokenReference;
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await h?.close();
    await db?.teardown();
  });

  const deliver = (hook: { body: string; headers: Record<string, string> }) =>
    h.app.inject({ method: 'POST', url: '/v1/webhooks/tsp', headers: hook.headers, payload: hook.body });
  const status = async () =>
    (await h.store.getCard({ tenantId: alice.tenant.id, userId: alice.id }, cardId))?.status;

  it('applies a webhook id once, and an older event arriving late never moves the card back', async () => {
    const now = Math.floor(h.clock.ms / 1000);
    const suspended = h.tsp.webhook(
      'token.suspended',
      tokenId,
      new Date(h.clock.ms + 10_000),
      { status: 'suspended' },
      now,
    );
    const resumed = h.tsp.webhook(
      'token.resumed',
      tokenId,
      new Date(h.clock.ms + 20_000),
      { status: 'active' },
      now,
    );
    // Delivered out of order: the resume (newer) first, then the suspension (older).
    expect((await deliver(resumed)).json().outcome).toBe('applied');
    expect((await deliver(suspended)).json().outcome).toBe('stale');
    expect(await status()).toBe('active');
    expect((await deliver(resumed)).json().outcome).toBe('duplicate');
    const later = h.tsp.webhook(
      'token.suspended',
      tokenId,
      new Date(h.clock.ms + 30_000),
      { status: 'suspended' },
      now,
    );
    expect((await deliver(later)).json().outcome).toBe('applied');
    expect(await status()).toBe('suspended');
  });

  it('pushes card states, transactions and device commands to the companion and the device channel', async () => {
    const now = Math.floor(h.clock.ms / 1000);
    const userEvents = await collect(`${base}/v1/events`, alice.session, 2, async () => {
      await deliver(
        h.tsp.webhook('token.resumed', tokenId, new Date(h.clock.ms + 40_000), { status: 'active' }, now),
      );
      await deliver(
        h.tsp.webhook(
          'transaction.authorized',
          tokenId,
          new Date(h.clock.ms + 41_000),
          { amountMinor: 1250, currency: 'EUR', merchant: 'Cafe', approved: true },
          now,
        ),
      );
    });
    expect(userEvents.map((e) => e.type)).toEqual(['card.updated', 'transaction']);
    expect(userEvents[0]!.data).toMatchObject({ id: cardId, status: 'active' });
    expect(userEvents[1]!.data).toMatchObject({
      cardId,
      amountMinor: 1250,
      currency: 'EUR',
      approved: true,
      last4: '1111',
    });

    const deviceEvents = await collect(
      `${base}/v1/devices/${deviceId}/events`,
      alice.session,
      2,
      async () => {
        await post(h, alice, `/v1/devices/${deviceId}/lost`);
      },
    );
    expect(deviceEvents.map((e) => e.type)).toEqual(['device.lost', 'device.command']);
    expect(deviceEvents[1]!.data).toEqual({ kind: 'lock' });

    // Every queued command is announced on the device channel, not only the lock.
    const later = await collect(`${base}/v1/devices/${deviceId}/events`, alice.session, 4, async () => {
      const removed = await h.app.inject({
        method: 'DELETE',
        url: `/v1/cards/${cardId}`,
        headers: { authorization: `Bearer ${alice.session}` },
      });
      expect(removed.statusCode).toBe(204);
      expect((await post(h, alice, `/v1/devices/${deviceId}/wipe`)).statusCode).toBe(200);
    });
    expect(later.map((e) => e.type)).toEqual([
      'card.removed',
      'device.command',
      'device.wiped',
      'device.command',
    ]);
    expect(later[1]!.data).toMatchObject({ kind: 'delete-applet' });
    expect(later[3]!.data).toEqual({ kind: 'wipe' });
  });

  it('publishes an OpenAPI 3.1 document with every route', async () => {
    const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    for (const path of [
      '/v1/devices',
      '/v1/devices/{deviceId}/lost',
      '/v1/cards/{cardId}/default',
      '/v1/webhooks/tsp',
      '/v1/tenants',
    ])
      expect(Object.keys(doc.paths)).toContain(path);
    expect(
      doc.paths['/v1/devices/{deviceId}/cards'].post.requestBody.content['application/json'].schema
        .additionalProperties,
    ).toBe(false);
  });
});
