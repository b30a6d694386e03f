import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { issueCertificate } from '@amulet/pki';
import { SecureElement } from '@amulet/secure-element';
import { findClearPans } from '@amulet/store';
import {
  createTenant,
  DAY_MS,
  type Harness,
  PAN_GREEN,
  PAN_YELLOW,
  type StoreHarness,
  seededRandom,
  sqliteHarness,
  startHarness,
  T0,
  type TenantFixture,
  testPki,
} from '@amulet/wallet/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Companion,
  CompanionError,
  SimulatedWearable,
  WalletClient,
  type WalletEvent,
} from '../src/index.ts';

const PIN = '739251';
const PASSWORD = 'a long enough password';

/** A wearable made as in the factory: the SE generates its key, the tenant's device CA certifies it. */
async function manufacture(h: Harness, pkiTenantId: string, seed: string) {
  const random = seededRandom(seed);
  const se = SecureElement.open({ deviceKey: random(32), rng: random, clock: () => h.clock.ms });
  const spki = se.generateDeviceKey();
  const ca = await h.pki.deviceCa(pkiTenantId);
  const leaf = await issueCertificate(
    {
      profile: {
        kind: 'device',
        attributes: { oemId: 'ACME', model: 'Band 3', seType: 'embedded', tenantId: pkiTenantId },
      },
      subject: { organization: 'ACME', serialNumber: `SN-${seed}`, commonName: 'Band 3' },
      subjectPublicKeyInfo: spki,
      serialNumber: Uint8Array.of(0x31, seed.length, 7),
      notBefore: new Date(T0.getTime() - DAY_MS),
      notAfter: new Date(T0.getTime() + 3650 * DAY_MS),
      issuer: ca.parsed,
    },
    ca.key.signer,
  );
  se.storeCertificates([leaf, ca.der]);
  return { se, wearable: new SimulatedWearable(se, random) };
}

describe('the companion drives the wallet and a wearable end to end', () => {
  let db: StoreHarness;
  let h: Harness;
  let tenant: TenantFixture;
  let base: string;
  let keyCounter = 0;

  beforeAll(async () => {
    db = await sqliteHarness();
    h = await startHarness(db, { seed: 'companion', pki: await testPki() });
    tenant = await createTenant(h, 'acme');
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await h?.close();
    await db?.teardown();
  });

  function companion(random = seededRandom('phone')) {
    return new Companion({
      wallet: new WalletClient({ baseUrl: base, tenantId: tenant.id, newKey: () => `phone-${keyCounter++}` }),
      pairing: {
        trustAnchors: [h.pki.root.der],
        tenantId: 'acme',
        nowMs: () => h.clock.ms,
        revocation: () => 'good',
        random,
      },
    });
  }

  it('registers, pairs, sets the PIN, adds cards with OTP, switches default, lost, found, remove, and the wallet never sees PAN or PIN', async () => {
    const phone = companion();
    await phone.register('alice@example.com', PASSWORD);
    const { wearable: band } = await manufacture(h, 'acme', 'band-1');
    const shown: string[] = [];
    const { device, wearable } = await phone.pair(band, async (sas) => {
      shown.push(sas);
      return sas === band.sas;
    });
    expect(shown).toEqual([band.sas]);
    expect(device.state).toBe('active');
    await phone.setPin(wearable, PIN);

    const events: WalletEvent[] = [];
    const following = new AbortController();
    const follow = phone.follow((e) => events.push(e), following.signal);

    const green = await phone.addCard(
      device.id,
      wearable,
      { pan: PAN_GREEN, expiry: '2912', cvv: '737' },
      async () => '000000',
    );
    let otpAsked = 0;
    const yellow = await phone.addCard(
      device.id,
      wearable,
      { pan: PAN_YELLOW, expiry: '2811', cvv: '123' },
      async () => {
        otpAsked++;
        return '123456';
      },
    );
    expect(otpAsked).toBe(1);
    expect(band.received.filter((k) => k === 'apdu').length).toBe(4);
    for (const card of [green, yellow]) {
      const hook = h.tsp.webhook(
        'token.activated',
        card.tokenReference,
        new Date(h.clock.ms + 1000),
        { status: 'active' },
        Math.floor(h.clock.ms / 1000),
      );
      await h.app.inject({
        method: 'POST',
        url: '/v1/webhooks/tsp',
        headers: hook.headers,
        payload: hook.body,
      });
    }
    const listed = await phone.wallet.cards(device.id);
    expect(listed.map((c) => [c.last4, c.status, c.isDefault]).sort()).toEqual([
      [PAN_GREEN.slice(-4), 'active', true],
      [PAN_YELLOW.slice(-4), 'active', false],
    ]);

    await phone.chooseDefault(yellow.id, wearable);
    expect(band.received).toContain('command');
    expect((await phone.wallet.card(yellow.id)).isDefault).toBe(true);

    await phone.reportLost(device.id);
    expect([...h.tsp.tokens.values()].map((t) => t.status)).toEqual(['suspended', 'suspended']);
    // Found needs the PIN: a wrong one is refused by the secure element and nothing is resumed.
    await expect(phone.reportFound(device.id, wearable, '000000')).rejects.toBeInstanceOf(CompanionError);
    expect((await phone.wallet.devices())[0]!.state).toBe('lost');
    const found = await phone.reportFound(device.id, wearable, PIN);
    expect(found.state).toBe('active');
    expect(band.locked).toBe(false);
    expect([...h.tsp.tokens.values()].map((t) => t.status)).toEqual(['active', 'active']);

    await phone.removeCard(green.id);
    expect((await phone.wallet.cards()).map((c) => c.id)).toEqual([yellow.id]);
    await new Promise((r) => setTimeout(r, 50));
    following.abort();
    await follow;
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['card.added', 'card.default', 'device.lost', 'device.found', 'card.removed']),
    );

    // Zero knowledge, with the PIN now in play: the wallet's files, logs and TSP traffic.
    const surfaces = [
      ...readdirSync(db.dir!).map((f) => Buffer.from(readFileSync(join(db.dir!, f)))),
      Buffer.from(h.logs.join('')),
      Buffer.from(h.tsp.calls.map((c) => c.requestBody + c.responseBody).join('\n')),
    ];
    for (const bytes of surfaces) {
      expect(findClearPans(new Uint8Array(bytes))).toEqual([]);
      const text = bytes.toString('latin1');
      for (const secret of [PIN, PAN_GREEN, PAN_YELLOW, ...[...h.tsp.tokens.values()].map((t) => t.dpan)])
        expect(text.includes(secret)).toBe(false);
    }
  });

  it('stops pairing when the user says the codes differ, and registers nothing', async () => {
    const phone = companion(seededRandom('phone-2'));
    await phone.register('bob@example.com', PASSWORD);
    const { wearable: band } = await manufacture(h, 'acme', 'band-2');
    await expect(phone.pair(band, async () => false)).rejects.toMatchObject({ code: 'ERR_COMPANION_SAS' });
    expect(await phone.wallet.devices()).toEqual([]);
  });

  it('refuses a wearable of another tenant during the handshake', async () => {
    const phone = companion(seededRandom('phone-3'));
    await phone.register('carol@example.com', PASSWORD);
    const { wearable: band } = await manufacture(h, 'globex', 'band-3');
    await expect(phone.pair(band, async () => true)).rejects.toMatchObject({
      code: 'ERR_LINK_PEER',
      reason: 'wrong-tenant',
    });
  });
});
