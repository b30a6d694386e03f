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
  type TenantFixture,
  type UserFixture,
} from './helpers/wallet-harness.ts';

interface Owned {
  readonly user: UserFixture;
  readonly devices: { id: string; commandId: string; cards: string[] }[];
}

/**
 * DESIGN.md invariant 9: every endpoint, called with another tenant's or another user's object
 * ids, answers 404 (not 403: existence is not revealed). The matrix is generated: 4 tenants x 4
 * users x 2 devices x 3 cards, and every user calls every object-addressed endpoint on every
 * object that is not theirs; the OEM back office of each tenant asks for every other tenant's
 * users and devices.
 */
describe('tenant isolation matrix', () => {
  let db: StoreHarness;
  let h: Harness;
  const tenants: TenantFixture[] = [];
  const owners: Owned[] = [];

  beforeAll(async () => {
    db = await sqliteHarness(true);
    h = await startHarness(db, { seed: 'isolation' });
    for (let t = 0; t < 4; t++) {
      const tenant = await createTenant(h, `tenant-${t}`);
      tenants.push(tenant);
      for (let u = 0; u < 4; u++) {
        const user = await createUser(h, tenant, `user${u}@tenant${t}.example`);
        const devices: Owned['devices'] = [];
        for (let d = 0; d < 2; d++) {
          const { id } = await pairDevice(h, user);
          const cards: string[] = [];
          // One card through the whole digitization, two more as rows (the matrix never reaches the TSP).
          cards.push(await addActiveCard(h, user, id, d === 0 ? PAN_YELLOW : PAN_GREEN));
          for (let c = 1; c < 3; c++) {
            const card = await h.store.addCard({
              id: `crd_t${t}u${u}d${d}c${c}`,
              tenantId: tenant.id,
              userId: user.id,
              deviceId: id,
              tokenReference: `tok_t${t}u${u}d${d}c${c}`,
              last4: '0000',
              network: 'visa',
              artUrl: 'https://art.invalid/visa.png',
              issuerName: 'Test Bank',
              status: 'active',
              tspStatusVersion: 0,
            });
            cards.push(card.id);
          }
          await post(h, user, `/v1/cards/${cards[1]}/default`);
          const commands = await h.store.pendingCommands(tenant.id, id);
          devices.push({ id, commandId: commands[0]!.id, cards });
        }
        owners.push({ user, devices });
      }
    }
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await db?.teardown();
  });

  it('answers 404 to at least 10,000 generated cross-tenant and cross-user calls, and changes nothing', async () => {
    const jwe = await encryptCard(h, PAN_GREEN);
    const foundBody = {
      signature: Buffer.alloc(70, 1).toString('base64'),
      nonce: Buffer.alloc(32, 2).toString('base64'),
    };
    type Call = { method: 'GET' | 'POST' | 'DELETE'; url: string; session: string; payload?: unknown };
    const calls: Call[] = [];
    for (const caller of owners) {
      const session = caller.user.session;
      for (const other of owners) {
        if (other === caller) continue;
        for (const device of other.devices) {
          const d = `/v1/devices/${device.id}`;
          calls.push(
            { method: 'GET', url: d, session },
            { method: 'GET', url: `/v1/cards?deviceId=${device.id}`, session },
            { method: 'GET', url: `${d}/commands`, session },
            { method: 'GET', url: `${d}/events`, session },
            { method: 'POST', url: `${d}/lost`, session, payload: {} },
            { method: 'POST', url: `${d}/found`, session, payload: foundBody },
            { method: 'POST', url: `${d}/wipe`, session, payload: {} },
            { method: 'POST', url: `${d}/cards`, session, payload: { encryptedCard: jwe, network: 'visa' } },
            { method: 'POST', url: `${d}/commands/${device.commandId}/ack`, session, payload: {} },
          );
          for (const card of device.cards) {
            const c = `/v1/cards/${card}`;
            calls.push(
              { method: 'GET', url: c, session },
              { method: 'POST', url: `${c}/otp`, session, payload: { otp: '123456' } },
              { method: 'POST', url: `${c}/provisioning`, session, payload: { responses: ['9000'] } },
              { method: 'POST', url: `${c}/default`, session, payload: {} },
              { method: 'DELETE', url: c, session },
            );
          }
        }
      }
    }
    for (const tenant of tenants) {
      for (const other of owners) {
        if (other.user.tenant === tenant) continue;
        calls.push({ method: 'GET', url: `/v1/tenant/users/${other.user.id}`, session: tenant.apiKey });
        for (const device of other.devices)
          calls.push({ method: 'GET', url: `/v1/tenant/devices/${device.id}`, session: tenant.apiKey });
      }
    }
    expect(calls.length).toBeGreaterThanOrEqual(10_000);

    const before = await h.store.snapshot();
    const tspCallsBefore = h.tsp.calls.length;
    const leaks: string[] = [];
    let key = 0;
    for (let i = 0; i < calls.length; i += 64) {
      const batch = calls.slice(i, i + 64);
      const responses = await Promise.all(
        batch.map((call) =>
          h.app.inject({
            method: call.method,
            url: call.url,
            headers: {
              authorization: `Bearer ${call.session}`,
              ...(call.method === 'POST' ? { 'idempotency-key': `iso-${key++}` } : {}),
            },
            ...(call.payload === undefined ? {} : { payload: call.payload as Record<string, unknown> }),
          }),
        ),
      );
      responses.forEach((r, j) => {
        if (r.statusCode !== 404 || r.json().code !== 'ERR_NOT_FOUND')
          leaks.push(`${batch[j]!.method} ${batch[j]!.url} -> ${r.statusCode}`);
      });
    }
    expect(leaks).toEqual([]);
    expect(await h.store.snapshot()).toEqual(before);
    // Nothing reached the TSP on anyone's behalf.
    expect(h.tsp.calls.length).toBe(tspCallsBefore);

    // The same endpoints still work for the owners.
    const owner = owners[5]!;
    const own = await h.app.inject({
      method: 'GET',
      url: `/v1/cards/${owner.devices[0]!.cards[0]}`,
      headers: { authorization: `Bearer ${owner.user.session}` },
    });
    expect(own.statusCode).toBe(200);
  }, 120_000);
});
