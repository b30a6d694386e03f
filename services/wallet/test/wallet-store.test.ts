import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant, WalletStore } from '../src/index.ts';
import { harnesses, type StoreHarness } from './helpers/databases.ts';

const policy = {
  sessionSeconds: 300,
  sessionTaps: 10,
  sessionAmountMinor: 100_000,
  wrongPinLimit: 5,
  pinLength: 4,
};
/** A card on device d-1 as the wallet keeps it: everything but its owner, id and token reference. */
const cardOnDevice = {
  deviceId: 'd-1',
  last4: '0004',
  network: 'visa',
  artUrl: 'https://art/1.png',
  issuerName: 'Bank',
  status: 'active' as const,
  tspStatusVersion: 1,
};

const brand = {
  displayName: 'Acme',
  primaryColour: '#112233',
  accentColour: '#445566',
  logoUrl: 'https://acme.example/l.png',
};

for (const [label, makeHarness] of harnesses) {
  describe(`wallet store on ${label}`, () => {
    let harness: StoreHarness;
    let store: WalletStore;
    let clockMs = Date.parse('2026-03-01T12:00:00Z');
    const now = () => new Date(clockMs);
    let tenant: Tenant;
    const owner = { tenantId: 't-1', userId: 'u-1' };
    const other = { tenantId: 't-1', userId: 'u-2' };

    beforeAll(async () => {
      harness = await makeHarness();
      store = await harness.open(now);
      tenant = await store.addTenant({
        id: 't-1',
        name: 'Acme',
        brand,
        pinPolicy: policy,
        allowedNetworks: ['visa'],
        trid: '40010030273',
        pkiTenantId: 'acme',
        deviceCaPem: '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n',
        apiKeyId: 'key-1',
        apiKeyHash: 'scrypt$x',
      });
      await store.addUser({ id: 'u-1', tenantId: 't-1', email: 'a@x', passwordHash: 'h' });
      await store.addUser({ id: 'u-2', tenantId: 't-1', email: 'b@x', passwordHash: 'h' });
    });
    afterAll(async () => {
      await store?.close();
      await harness?.teardown();
    });

    it('keeps tenants and finds them by API key and TRID; a duplicate TRID is refused', async () => {
      expect(await store.getTenant('t-1')).toEqual(tenant);
      expect((await store.getTenantByApiKey('key-1'))?.id).toBe('t-1');
      expect((await store.getTenantByTrid('40010030273'))?.id).toBe('t-1');
      await expect(store.addTenant({ ...tenant, id: 't-2', apiKeyId: 'key-2' })).rejects.toMatchObject({
        code: 'ERR_DUPLICATE',
      });
      const updated = await store.updateTenantSettings('t-1', { allowedNetworks: ['visa', 'mastercard'] });
      expect(updated?.allowedNetworks).toEqual(['visa', 'mastercard']);
    });

    it('refuses a second user with the same email in a tenant, and locks after the limit', async () => {
      await expect(
        store.addUser({ id: 'u-3', tenantId: 't-1', email: 'a@x', passwordHash: 'h' }),
      ).rejects.toMatchObject({ code: 'ERR_DUPLICATE' });
      let user = (await store.findUserByEmail('t-1', 'b@x'))!;
      for (let i = 0; i < 2; i++) {
        await store.recordLoginFailure(user, 3, 60_000);
        user = (await store.getUser('t-1', 'u-2'))!;
      }
      expect(user.failedLogins).toBe(2);
      expect(user.lockedUntil).toBeNull();
      await store.recordLoginFailure(user, 3, 60_000);
      user = (await store.getUser('t-1', 'u-2'))!;
      expect(user.lockedUntil).toBe(new Date(clockMs + 60_000).toISOString());
      await store.recordLoginSuccess(user);
      expect((await store.getUser('t-1', 'u-2'))?.lockedUntil).toBeNull();
    });

    it('consumes a challenge once, only for its owner, purpose and lifetime', async () => {
      const expires = new Date(clockMs + 60_000).toISOString();
      await store.addChallenge('n1', owner, 'register', expires);
      expect(await store.consumeChallenge('n1', owner, 'register')).toBe(true);
      expect(await store.consumeChallenge('n1', owner, 'register')).toBe(false);
      await store.addChallenge('n2', owner, 'register', expires);
      expect(await store.consumeChallenge('n2', other, 'register')).toBe(false);
      await store.addChallenge('n3', owner, 'register', expires);
      expect(await store.consumeChallenge('n3', owner, 'found')).toBe(false);
      await store.addChallenge('n4', owner, 'register', expires);
      clockMs += 120_000;
      expect(await store.consumeChallenge('n4', owner, 'register')).toBe(false);
    });

    it('expires ended sessions and challenges and day-old Idempotency-Keys, a batch at a time', async () => {
      const start = clockMs;
      const at = (ms: number) => new Date(start + ms).toISOString();
      await store.addSession('s-ending', owner, at(60_000));
      await store.addSession('s-later', owner, at(3 * 60_000));
      await store.addSession('s-long', owner, at(48 * 60 * 60_000));
      await store.addChallenge('c-ending', owner, 'register', at(60_000));
      expect(await store.beginIdempotent('POST /v1/x u-1', 'k-old', 'h1')).toEqual({ kind: 'started' });
      await store.completeIdempotent('POST /v1/x u-1', 'k-old', 200, '{}');
      clockMs = start + 12 * 60 * 60_000;
      expect(await store.beginIdempotent('POST /v1/x u-1', 'k-new', 'h1')).toEqual({ kind: 'started' });
      await store.completeIdempotent('POST /v1/x u-1', 'k-new', 200, '{}');
      /** What one call of expire removed: sessions, challenges, Idempotency-Keys; then `more`. */
      const swept = async (options: { limit?: number }) => {
        const r = await store.expire(options);
        expect([r.webhooks, r.commands]).toEqual([0, 0]);
        return [r.sessions, r.challenges, r.idempotencyKeys, r.more];
      };
      // Nothing has ended at the start.
      clockMs = start;
      expect(await swept({})).toEqual([0, 0, 0, false]);
      // A day and a minute later: two sessions have ended (one per call with limit 1), the
      // challenge too, and the first key is past the retention; the second is not.
      clockMs = start + 24 * 60 * 60_000 + 60_000;
      expect(await swept({ limit: 1 })).toEqual([1, 1, 1, true]);
      expect(await store.getSession('s-ending')).toBeUndefined();
      expect(await store.getSession('s-later')).toBeDefined();
      expect(await swept({ limit: 1 })).toEqual([1, 0, 0, true]);
      expect(await swept({ limit: 1 })).toEqual([0, 0, 0, false]);
      expect(await store.getSession('s-long')).toBeDefined();
      expect(await store.consumeChallenge('c-ending', owner, 'register')).toBe(false);
      // The forgotten key runs as a first use, even with another body; the kept one still conflicts.
      expect(await store.beginIdempotent('POST /v1/x u-1', 'k-old', 'h2')).toEqual({ kind: 'started' });
      expect(await store.beginIdempotent('POST /v1/x u-1', 'k-new', 'h2')).toEqual({ kind: 'conflict' });
      await store.abandonIdempotent('POST /v1/x u-1', 'k-old');
      await expect(store.expire({ idempotencyRetentionMs: 1000 })).rejects.toThrow(/at least 60000/);
      await expect(store.expire({ limit: 0 })).rejects.toThrow(/at least 1/);
      await expect(store.expire({ historyRetentionMs: 60_000 })).rejects.toThrow(/at least a day/);
      clockMs = start;
    });

    it('pairs a device to one owner, scopes reads, transitions with commands and re-pairs after a wipe', async () => {
      const device = await store.pairDevice({
        id: 'd-1',
        tenantId: 't-1',
        userId: 'u-1',
        certSerial: '10AB',
        certFingerprint: 'F1',
        chain: ['AA=='],
        model: 'Band 2',
        oemId: 'ACME',
      });
      expect(device.state).toBe('active');
      expect(await store.getDevice(other, 'd-1')).toBeUndefined();
      expect((await store.getDevice(owner, 'd-1'))?.chain).toEqual(['AA==']);
      await expect(store.pairDevice({ ...device, id: 'd-x', userId: 'u-2' })).rejects.toMatchObject({
        code: 'ERR_CONFLICT',
      });
      const lost = await store.transitionDevice(owner, 'd-1', ['active'], 'lost', [
        { id: 'c-1', kind: 'lock', tokenReference: null },
      ]);
      expect(lost?.state).toBe('lost');
      expect(await store.transitionDevice(owner, 'd-1', ['active'], 'lost', [])).toBeUndefined();
      expect(await store.transitionDevice(other, 'd-1', ['lost'], 'active', [])).toBeUndefined();
      expect((await store.pendingCommands('t-1', 'd-1')).map((c) => c.kind)).toEqual(['lock']);
      expect(await store.acknowledgeCommand('t-1', 'd-1', 'c-1')).toBe(true);
      expect(await store.acknowledgeCommand('t-1', 'd-1', 'c-1')).toBe(false);
      const wiped = await store.transitionDevice(owner, 'd-1', ['active', 'lost'], 'wiped', [], true);
      expect(wiped?.userId).toBeNull();
      const repaired = await store.pairDevice({ ...device, id: 'd-y', userId: 'u-2' });
      expect(repaired).toMatchObject({ id: 'd-1', userId: 'u-2', state: 'active' });
    });

    it('keeps card references, one default per device, and applies webhooks once and in order', async () => {
      const o2 = other;
      const base = { ...cardOnDevice, tenantId: 't-1', userId: 'u-2' };
      const first = await store.addCard({ ...base, id: 'k-1', tokenReference: 'tr-1' });
      const second = await store.addCard({ ...base, id: 'k-2', tokenReference: 'tr-2' });
      expect(first.isDefault).toBe(true);
      expect(second.isDefault).toBe(false);
      await expect(store.addCard({ ...base, id: 'k-3', tokenReference: 'tr-1' })).rejects.toMatchObject({
        code: 'ERR_DUPLICATE',
      });
      await store.setDefaultCard(second, 'cmd-d');
      const cards = await store.listCards(o2, 'd-1');
      expect(cards.filter((c) => c.isDefault).map((c) => c.id)).toEqual(['k-2']);
      expect(await store.listCards(owner)).toEqual([]);

      const v3 = await store.applyWebhook({
        webhookId: 'w-3',
        eventType: 'token.suspended',
        tokenReference: 'tr-1',
        status: { to: 'suspended', version: 3 },
      });
      expect(v3?.outcome).toBe('applied');
      expect(
        await store.applyWebhook({ webhookId: 'w-3', eventType: 'token.suspended', tokenReference: 'tr-1' }),
      ).toBe(undefined);
      const v2 = await store.applyWebhook({
        webhookId: 'w-2',
        eventType: 'token.resumed',
        tokenReference: 'tr-1',
        status: { to: 'active', version: 2 },
      });
      expect(v2?.outcome).toBe('stale');
      expect((await store.getCard(o2, 'k-1'))?.status).toBe('suspended');
      const unknown = await store.applyWebhook({
        webhookId: 'w-9',
        eventType: 'token.suspended',
        tokenReference: 'tr-none',
        status: { to: 'suspended', version: 9 },
      });
      expect(unknown?.outcome).toBe('unknown-token');
    });

    it('reads a card with its device state in one read, and sees a commit made while a read was open', async () => {
      const second = await store.getCardWithDeviceState(other, 'k-2');
      expect(second).toMatchObject({ card: { id: 'k-2', isDefault: true }, deviceState: 'active' });
      expect(await store.getCardWithDeviceState(owner, 'k-2')).toBeUndefined();
      // The read starts after the switch is queued and before it commits (SQLite: a shared read
      // snapshot); the read after the answered switch must see it.
      const switched = store.setDefaultCard(second!.card, 'cmd-e');
      expect((await store.getCard(other, 'k-2'))?.isDefault).toBe(true);
      await switched;
      const first = (await store.getCard(other, 'k-1'))!;
      // A fresh turn, so that the switch is queued before the read opens its snapshot.
      await new Promise((resolve) => setImmediate(resolve));
      const switchedBack = store.setDefaultCard(first, 'cmd-f');
      await store.listCards(other, 'd-1');
      await switchedBack;
      expect((await store.listCards(other, 'd-1')).filter((c) => c.isDefault).map((c) => c.id)).toEqual([
        'k-1',
      ]);
    });

    it("lists an owner's cards oldest first, ids breaking ties, from the listing index", async () => {
      const lister = { tenantId: 't-1', userId: 'u-list' };
      const card = (id: string) => ({ ...cardOnDevice, ...lister, id, tokenReference: `tr-${id}` });
      const at = clockMs;
      clockMs = at + 2_000;
      await store.addCard(card('l-c'));
      clockMs = at + 1_000;
      await store.addCard(card('l-b'));
      await store.addCard(card('l-a'));
      clockMs = at + 3_000;
      await store.addCard(card('l-0'));
      clockMs = at;
      expect((await store.listCards(lister)).map((c) => c.id)).toEqual(['l-a', 'l-b', 'l-c', 'l-0']);
      if (harness.label !== 'SQLite' || harness.dir === undefined) return;
      // Migration 5: the index hands the rows over in order; no temporary B-tree sorts them.
      const db = new Database(join(harness.dir, 'wallet.db'), { readonly: true });
      try {
        const plan = db
          .prepare(
            'EXPLAIN QUERY PLAN SELECT * FROM wallet_cards WHERE tenant_id = ? AND user_id = ? AND status != ? ORDER BY created_at, id',
          )
          .all('t-1', 'u-list', 'removed') as { detail: string }[];
        const details = plan.map((row) => row.detail).join('\n');
        expect(details).toContain('wallet_cards_listing');
        expect(details).not.toContain('TEMP B-TREE');
      } finally {
        db.close();
      }
    });

    it('gives Stripe idempotency outcomes: started, in progress, replay, conflict, and abandon frees a key', async () => {
      expect(await store.beginIdempotent('s', 'k', 'h1')).toEqual({ kind: 'started' });
      expect(await store.beginIdempotent('s', 'k', 'h1')).toEqual({ kind: 'in-progress' });
      expect(await store.beginIdempotent('s', 'k', 'h2')).toEqual({ kind: 'conflict' });
      await store.completeIdempotent('s', 'k', 201, '{"a":1}');
      expect(await store.beginIdempotent('s', 'k', 'h1')).toEqual({
        kind: 'replay',
        statusCode: 201,
        response: '{"a":1}',
      });
      expect(await store.beginIdempotent('s2', 'k', 'h9')).toEqual({ kind: 'started' });
      await store.abandonIdempotent('s2', 'k');
      expect(await store.beginIdempotent('s2', 'k', 'h8')).toEqual({ kind: 'started' });
    });

    it('deletes TSP webhooks received and device commands acknowledged 31 days ago; a forgotten webhook applies anew', async () => {
      const day = 24 * 60 * 60_000;
      const start = clockMs;
      const webhook = { webhookId: 'w-month', eventType: 'token.created', tokenReference: null };
      expect(await store.applyWebhook(webhook)).toBeDefined();
      clockMs = start + 30 * day;
      expect(await store.expire()).toMatchObject({ webhooks: 0, commands: 0, more: false });
      expect(await store.applyWebhook(webhook)).toBeUndefined(); // still known: not applied twice
      clockMs = start + 31 * day + 60_000;
      const swept = await store.expire();
      // Every webhook of these tests and the acknowledged lock command (c-1).
      expect(swept.webhooks).toBeGreaterThanOrEqual(4);
      expect(swept.commands).toBeGreaterThanOrEqual(1);
      expect(await store.applyWebhook(webhook)).toBeDefined();
      clockMs = start;
    });
  });
}
