import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { findClearPans, outsideHexWords } from '@amulet/store';
import {
  createTenant,
  type Harness,
  PAN_GREEN,
  PAN_YELLOW,
  type StoreHarness,
  seededRandom,
  sqliteHarness,
  startHarness,
  type TenantFixture,
  testPki,
} from '@amulet/wallet/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Companion, CompanionError, WalletClient, type WalletEvent } from '../src/index.ts';
import { manufacture, tapOnce, until } from './wearable-fixture.ts';

const PIN = '739251';
const PASSWORD = 'a long enough password';

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
    const band = await manufacture(h, 'acme', 'band-1');
    const shown: string[] = [];
    const { device, wearable } = await phone.pair(band, async (sas) => {
      shown.push(sas);
      return sas === band.sas;
    });
    expect(shown).toEqual([band.sas]);
    expect(device.state).toBe('active');
    await phone.setPin(wearable, PIN);
    band.wristOn();

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
    // The loader's APDUs went through the secure link into the SE, not through the NFC field.
    expect(band.trace.entries()).toEqual([]);
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
    expect(await phone.wallet.commands(device.id)).toEqual([]);
    expect((await phone.wallet.card(yellow.id)).isDefault).toBe(true);

    await phone.reportLost(device.id);
    expect([...h.tsp.tokens.values()].map((t) => t.status)).toEqual(['suspended', 'suspended']);
    // Found needs the PIN: a wrong one is refused by the secure element and nothing is resumed.
    await expect(phone.reportFound(device.id, wearable, '000000')).rejects.toBeInstanceOf(CompanionError);
    expect((await phone.wallet.devices())[0]!.state).toBe('lost');
    expect(band.se.pinTriesLeft).toBe(4);
    const found = await phone.reportFound(device.id, wearable, PIN);
    expect(found.state).toBe('active');
    // "found" relayed the queued lock, then the unlock: the SE pays again.
    expect(band.se.tokens().map((t) => t.status)).toEqual(['active', 'active', 'active']);
    expect(band.se.pinTriesLeft).toBe(5);
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
      // Digit runs inside hex digests are chance, not card numbers; the known ones are searched below.
      expect(outsideHexWords(bytes, findClearPans(bytes))).toEqual([]);
      const text = bytes.toString('latin1');
      for (const secret of [PIN, PAN_GREEN, PAN_YELLOW, ...[...h.tsp.tokens.values()].map((t) => t.dpan)])
        expect(text.includes(secret)).toBe(false);
    }
  });

  it('lost while the wearable is away: the TSP suspends at once; the SE locks when the wearable connects', async () => {
    const phone = companion(seededRandom('phone-4'));
    await phone.register('dave@example.com', PASSWORD);
    const band = await manufacture(h, 'acme', 'band-4');
    const { device, wearable } = await phone.pair(band, async (sas) => sas === band.sas);
    const card = await phone.addCard(
      device.id,
      wearable,
      { pan: PAN_GREEN, expiry: '2912', cvv: '737' },
      async () => '000000',
    );
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
    const deviceCertificate = wearable.chain[0]!;

    // The wearable is away (no link). "lost" answers only once the TSP committed the suspension,
    // so the TSP declines the next authorization of the token (DESIGN.md invariant 6)...
    await phone.reportLost(device.id);
    expect(h.tsp.tokens.get(card.tokenReference)?.status).toBe('suspended');
    expect(h.tsp.suspendedAt.has(card.tokenReference)).toBe(true);
    // ...while the wearable has heard nothing yet: offline, its SE still makes a cryptogram.
    expect((await tapOnce(band)).cryptogram.length).toBe(8);
    expect((await phone.wallet.commands(device.id)).map((c) => c.kind)).toEqual(['lock']);

    // The wearable comes back in range: a new link (no code to compare: the same device
    // certificate), then the push channel. The queued lock is relayed first.
    const link = await phone.connect(band, deviceCertificate);
    const relayed: string[][] = [];
    const online = new AbortController();
    const relay = phone.relayDeviceCommands(device.id, link, online.signal, (kinds) => {
      relayed.push([...kinds]);
    });
    await until(() => relayed.length >= 1);
    expect(relayed).toEqual([['lock']]);
    expect(band.se.tokens().map((t) => t.status)).toEqual(['suspended', 'suspended', 'suspended']);
    await expect(tapOnce(band)).rejects.toThrow();
    expect(await phone.wallet.commands(device.id)).toEqual([]);

    // While connected, the next command arrives by push alone: the card removed, then the device wiped.
    await phone.removeCard(card.id);
    await until(() => relayed.length >= 2);
    expect(relayed[1]).toEqual(['delete-applet']);
    await phone.wallet.wipe(device.id);
    await until(() => relayed.length >= 3);
    expect(relayed[2]).toEqual(['wipe']);
    expect(band.se.tokens()).toEqual([]);
    online.abort();
    await relay;
    expect(await phone.wallet.commands(device.id)).toEqual([]);
  });

  it('will not reconnect to another wearable in place of the one paired', async () => {
    const phone = companion(seededRandom('phone-5'));
    await phone.register('erin@example.com', PASSWORD);
    const first = await manufacture(h, 'acme', 'band-5');
    const { wearable } = await phone.pair(first, async (sas) => sas === first.sas);
    const other = await manufacture(h, 'acme', 'band-6');
    await expect(phone.connect(other, wearable.chain[0]!)).rejects.toMatchObject({
      code: 'ERR_COMPANION_WEARABLE',
    });
    const again = await phone.connect(first, wearable.chain[0]!);
    expect((await phone.wearableCards(again)).map((c) => c.isDefault)).toEqual([true, false, false]);
  });

  it('stops pairing when the user says the codes differ, and registers nothing', async () => {
    const phone = companion(seededRandom('phone-2'));
    await phone.register('bob@example.com', PASSWORD);
    const band = await manufacture(h, 'acme', 'band-2');
    await expect(phone.pair(band, async () => false)).rejects.toMatchObject({ code: 'ERR_COMPANION_SAS' });
    expect(await phone.wallet.devices()).toEqual([]);
  });

  it('refuses a wearable of another tenant during the handshake', async () => {
    const phone = companion(seededRandom('phone-3'));
    await phone.register('carol@example.com', PASSWORD);
    const band = await manufacture(h, 'globex', 'band-3');
    await expect(phone.pair(band, async () => true)).rejects.toMatchObject({
      code: 'ERR_LINK_PEER',
      reason: 'wrong-tenant',
    });
  });
});
