import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findClearPans, outsideHexWords } from '@amulet/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attestationContext } from '../src/index.ts';
import { type StoreHarness, sqliteHarness } from './helpers/databases.ts';
import { PAN_GREEN, PAN_RED, PAN_YELLOW, TEST_CVV } from './helpers/tsp-server.ts';
import {
  addActiveCard,
  createTenant,
  createUser,
  encryptCard,
  get,
  type Harness,
  pairDevice,
  post,
  startHarness,
  type UserFixture,
} from './helpers/wallet-harness.ts';

/**
 * DESIGN.md invariant 1: across a full scenario, a scanner over the wallet's database files (with
 * WAL), its logs and every byte it exchanged with the TSP finds no PAN, DPAN or CVV. (The PIN never
 * reaches the wallet at all: apps/companion's end-to-end test scans for it over the same surfaces.)
 */
describe('zero knowledge: the wallet never holds a PAN, DPAN or CVV', () => {
  let db: StoreHarness;
  let h: Harness;
  let alice: UserFixture;

  beforeAll(async () => {
    db = await sqliteHarness();
    h = await startHarness(db, { seed: 'zero-knowledge' });
    alice = await createUser(h, await createTenant(h, 'acme'), 'alice@example.com');
    const { id, device } = await pairDevice(h, alice);
    const first = await addActiveCard(h, alice, id, PAN_GREEN);
    const second = await addActiveCard(h, alice, id, PAN_YELLOW);
    await post(h, alice, `/v1/devices/${id}/cards`, {
      encryptedCard: await encryptCard(h, PAN_RED),
      network: 'visa',
    });
    await post(h, alice, `/v1/cards/${second}/default`);
    await get(h, alice, '/v1/cards');
    await post(h, alice, `/v1/devices/${id}/lost`);
    const challenge = await post(h, alice, '/v1/devices/challenges', { purpose: 'found' });
    const nonce = Buffer.from(challenge.json().nonce, 'base64');
    const signature = await device.attest(nonce, attestationContext('found', alice.tenant.id, id));
    await post(h, alice, `/v1/devices/${id}/found`, {
      signature: Buffer.from(signature).toString('base64'),
      nonce: nonce.toString('base64'),
    });
    const tokenId = (await h.store.getCard({ tenantId: alice.tenant.id, userId: alice.id }, first))!
      .tokenReference;
    const hook = h.tsp.webhook(
      'transaction.authorized',
      tokenId,
      new Date(h.clock.ms),
      { amountMinor: 500, currency: 'EUR', merchant: 'Cafe', approved: true },
      Math.floor(h.clock.ms / 1000),
    );
    await h.app.inject({
      method: 'POST',
      url: '/v1/webhooks/tsp',
      headers: hook.headers,
      payload: hook.body,
    });
    await h.app.inject({
      method: 'DELETE',
      url: `/v1/cards/${first}`,
      headers: { authorization: `Bearer ${alice.session}` },
    });
    await post(h, alice, `/v1/devices/${id}/wipe`);
  });
  afterAll(async () => {
    await h?.close();
    await db?.teardown();
  });

  function surfaces(): { name: string; bytes: Uint8Array }[] {
    const files = readdirSync(db.dir!).map((f) => ({
      name: f,
      bytes: new Uint8Array(readFileSync(join(db.dir!, f))),
    }));
    const logs = { name: 'logs', bytes: new TextEncoder().encode(h.logs.join('')) };
    const traffic = {
      name: 'TSP traffic',
      bytes: new TextEncoder().encode(
        h.tsp.calls.map((c) => `${c.method} ${c.path}\n${c.requestBody}\n${c.responseBody}\n`).join(''),
      ),
    };
    return [...files, logs, traffic];
  }

  it('scans real data: the database and its WAL exist, the logs and the relayed traffic are not empty', () => {
    const all = surfaces();
    expect(all.map((s) => s.name)).toEqual(
      expect.arrayContaining(['wallet.db', 'wallet.db-wal', 'logs', 'TSP traffic']),
    );
    for (const s of all.filter((s) => s.name !== 'wallet.db-shm'))
      expect(s.bytes.length).toBeGreaterThan(100);
    // The relayed traffic carried the encrypted card data and the APDUs.
    const traffic = new TextDecoder().decode(all.find((s) => s.name === 'TSP traffic')!.bytes);
    expect(traffic).toContain('encryptedCard');
    expect(traffic).toContain('/provisioning');
    // A control: the same scanner does find a PAN when one is there.
    expect(findClearPans(new TextEncoder().encode(`x${PAN_GREEN}x`)).map((hit) => hit.digits)).toEqual([
      PAN_GREEN,
    ]);
    // And the hex filter keeps a PAN that stands among words, drops one inside a digest-like word.
    const framed = new TextEncoder().encode(`"id":"${PAN_GREEN}","h":"ab${PAN_GREEN}${'c'.repeat(20)}"`);
    expect(outsideHexWords(framed, findClearPans(framed)).map((hit) => hit.offset)).toEqual([6]);
  });

  it('finds no Luhn-valid card number, no test PAN, no DPAN, no CVV anywhere', () => {
    const dpans = [...h.tsp.tokens.values()].map((t) => t.dpan);
    expect(dpans.length).toBeGreaterThanOrEqual(2);
    for (const surface of surfaces()) {
      expect({
        surface: surface.name,
        hits: outsideHexWords(surface.bytes, findClearPans(surface.bytes)),
      }).toEqual({
        surface: surface.name,
        hits: [],
      });
      const text = Buffer.from(surface.bytes).toString('latin1');
      for (const value of [PAN_GREEN, PAN_YELLOW, PAN_RED, ...dpans])
        expect(text.includes(value), `${surface.name}`).toBe(false);
      // A CVV is three digits: look for it as a field, and as a standalone number in text.
      expect(/"cvv"|"pan"|"dpan"/i.test(text), surface.name).toBe(false);
      // (The logs' `"ms":<duration>` field is left out: a request may well take 737 ms.)
      const searched = surface.name === 'logs' ? text.replace(/"ms":\d+/g, '"ms":0') : text;
      if (surface.name === 'logs' || surface.name === 'TSP traffic')
        expect(
          new RegExp(`(^|[^0-9A-Za-z_-])${TEST_CVV}([^0-9A-Za-z_-]|$)`).test(searched),
          surface.name,
        ).toBe(false);
    }
  });
});
