import { afterAll, beforeAll, describe, expect, it as vitestIt } from 'vitest';
import { auditHash, type Repositories, type Store, type TokenRecord } from '../src/index.ts';
import { id, newDpan, newPan, newPar, newTrid, TestHsm } from './fixtures.ts';

export interface StoreHarness {
  /** Opens the harness's database (the same one every time), migrating it if needed. */
  open(): Promise<Store>;
  /** Runs after every other test, while the last store is still open (e.g. to scan files). */
  inspect?(): Promise<void>;
  /** Runs one raw statement on the same database outside the store (tests tamper with rows this way). */
  sql(statement: string, parameters: readonly unknown[]): Promise<void>;
  /** Called once at the end, after the store is closed (e.g. drop the database). */
  teardown(): Promise<void>;
}

/** One suite, every store: each implementation of the repositories must pass all of it. */
export function storeConformance(label: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`store conformance: ${label}`, () => {
    let harness: StoreHarness;
    let store: Store;
    const hsm = new TestHsm();

    // A store that cannot be set up (e.g. PostgreSQL not reachable) fails every test with the reason; none is skipped.
    let setupError: unknown;
    beforeAll(async () => {
      try {
        harness = await makeHarness();
        store = await harness.open();
      } catch (error) {
        setupError = error;
      }
    });
    const it = (name: string, fn: () => Promise<void>): void => {
      vitestIt(name, async () => {
        if (setupError !== undefined) throw setupError;
        await fn();
      });
    };
    afterAll(async () => {
      await store?.close();
      await harness?.teardown();
    });

    async function requestor(): Promise<string> {
      const trid = newTrid();
      await store.requestors.add({ trid, name: 'Test Wallet', tenant: id('tenant') });
      return trid;
    }

    async function panRecord(pan = newPan(), kek = 'kek-1') {
      return store.vault.insertPanRecord({ id: id('pan'), par: newPar(), ...hsm.protect(pan, kek) });
    }

    async function token(
      overrides: Partial<{
        trid: string;
        panRecordId: string;
        fingerprint: string;
        status: TokenRecord['status'];
      }> = {},
      repos: Repositories = store,
    ): Promise<TokenRecord> {
      const trid = overrides.trid ?? (await requestor());
      const panRecordId = overrides.panRecordId ?? (await panRecord()).id;
      return repos.vault.insertToken({
        id: id('tok'),
        dpan: newDpan(),
        tokenExpiry: '2912',
        status: overrides.status ?? 'active',
        requestorTrid: trid,
        panRecordId,
        device: { certificateSerial: '01AB', certificateFingerprint: overrides.fingerprint ?? id('fp') },
        domainControls: { posEntryModes: ['07'], contactlessOnly: true },
        assuranceMethod: 'issuer-otp',
        actor: 'wallet',
      });
    }

    it('adds and reads token requestors, refusing a bad or duplicate TRID', async () => {
      const tenant = id('tenant');
      const trid = newTrid();
      const added = await store.requestors.add({ trid, name: 'Wallet A', tenant });
      expect(await store.requestors.get(trid)).toEqual(added);
      expect(await store.requestors.listByTenant(tenant)).toEqual([added]);
      expect(await store.requestors.get(newTrid())).toBeUndefined();
      await expect(store.requestors.add({ trid, name: 'again', tenant })).rejects.toMatchObject({
        code: 'ERR_STORE_DUPLICATE',
      });
      await expect(store.requestors.add({ trid: '1234567890', name: 'x', tenant })).rejects.toMatchObject({
        code: 'ERR_STORE_INPUT',
      });
    });

    it('keeps token BIN ranges per network', async () => {
      const network = id('net');
      const b = await store.binRanges.add({
        id: id('r'),
        network,
        binLow: '48953800',
        binHigh: '48953899',
        tokenLength: 16,
      });
      const a = await store.binRanges.add({
        id: id('r'),
        network,
        binLow: '48953700',
        binHigh: '48953799',
        tokenLength: 16,
      });
      await store.binRanges.add({
        id: id('r'),
        network: id('other'),
        binLow: '51000000',
        binHigh: '51000099',
        tokenLength: 16,
      });
      expect(await store.binRanges.listByNetwork(network)).toEqual([a, b]);
      await expect(
        store.binRanges.add({
          id: id('r'),
          network,
          binLow: '48953899',
          binHigh: '48953800',
          tokenLength: 16,
        }),
      ).rejects.toMatchObject({ code: 'ERR_STORE_INPUT' });
    });

    it('finds the issuer by the longest matching BIN', async () => {
      const wide = await store.issuers.add({
        id: id('iss'),
        name: 'Wide Bank',
        idvEndpoint: 'https://wide.example/idv',
        authEndpoint: 'tcp://wide.example:5000',
        bins: ['532101'],
      });
      const narrow = await store.issuers.add({
        id: id('iss'),
        name: 'Narrow Bank',
        idvEndpoint: 'https://narrow.example/idv',
        authEndpoint: 'tcp://narrow.example:5000',
        bins: ['53210177', '53210188'],
      });
      expect(await store.issuers.get(narrow.id)).toEqual({ ...narrow, bins: ['53210177', '53210188'] });
      expect((await store.issuers.findByBin('53210177'))?.id).toBe(narrow.id);
      expect((await store.issuers.findByBin('53210155'))?.id).toBe(wide.id);
      expect(await store.issuers.findByBin('99999999')).toBeUndefined();
    });

    it('stores a PAN record as given and finds it by lookup hash and by PAR', async () => {
      const pan = newPan();
      const record = await panRecord(pan);
      expect(hsm.reveal(record)).toBe(pan);
      const byId = await store.vault.getPanRecord(record.id);
      expect(byId).toEqual(record);
      expect(hsm.reveal(byId!)).toBe(pan);
      expect((await store.vault.findPanRecordByLookup(hsm.lookup(pan)))?.id).toBe(record.id);
      expect((await store.vault.findPanRecordByPar(record.par))?.id).toBe(record.id);
      expect(await store.vault.findPanRecordByLookup(hsm.lookup(newPan()))).toBeUndefined();
    });

    it('refuses a second record for the same PAN and a reused PAR', async () => {
      const pan = newPan();
      const first = await panRecord(pan);
      await expect(panRecord(pan)).rejects.toMatchObject({ code: 'ERR_STORE_DUPLICATE' });
      await expect(
        store.vault.insertPanRecord({ id: id('pan'), par: first.par, ...hsm.protect(newPan(), 'kek-1') }),
      ).rejects.toMatchObject({ code: 'ERR_STORE_DUPLICATE' });
      await expect(
        store.vault.insertPanRecord({ id: id('pan'), par: 'SHORT', ...hsm.protect(newPan(), 'kek-1') }),
      ).rejects.toMatchObject({ code: 'ERR_STORE_INPUT' });
    });

    it('updates the PAN of a record (card reissued) keeping the PAR and the tokens', async () => {
      const record = await panRecord();
      const t = await token({ panRecordId: record.id });
      const reissued = newPan();
      await store.vault.updatePan(record.id, hsm.protect(reissued, 'kek-1'));
      const after = await store.vault.getPanRecord(record.id);
      expect(after?.par).toBe(record.par);
      expect(hsm.reveal(after!)).toBe(reissued);
      expect((await store.vault.findPanRecordByLookup(hsm.lookup(reissued)))?.id).toBe(record.id);
      expect((await store.vault.findTokensByPar(record.par)).map((x) => x.id)).toEqual([t.id]);
      await expect(
        store.vault.updatePan(id('missing'), hsm.protect(newPan(), 'kek-1')),
      ).rejects.toMatchObject({
        code: 'ERR_STORE_NOT_FOUND',
      });
    });

    it('stores tokens and refuses a duplicate DPAN', async () => {
      const t = await token();
      expect(await store.vault.getToken(t.id)).toEqual(t);
      expect(await store.vault.findTokenByDpan(t.dpan)).toEqual(t);
      expect(t.statusVersion).toBe(1);
      expect(t.domainControls).toEqual({ posEntryModes: ['07'], contactlessOnly: true });
      await expect(
        store.vault.insertToken({
          id: id('tok'),
          dpan: t.dpan,
          tokenExpiry: '2912',
          status: 'active',
          requestorTrid: t.requestorTrid,
          panRecordId: t.panRecordId,
          device: t.device,
          domainControls: {},
          assuranceMethod: 'none',
          actor: 'tsp',
        }),
      ).rejects.toMatchObject({ code: 'ERR_STORE_DUPLICATE' });
      expect(await store.vault.getToken(id('missing'))).toBeUndefined();
    });

    it('searches tokens by device, by PAR and by requestor', async () => {
      const trid = await requestor();
      const fingerprint = id('fp');
      const record = await panRecord();
      const t1 = await token({ trid, fingerprint, panRecordId: record.id });
      const t2 = await token({ trid, panRecordId: record.id });
      const t3 = await token({ fingerprint });
      const ids = (ts: TokenRecord[]) => ts.map((t) => t.id).sort();
      expect(ids(await store.vault.findTokensByDevice(fingerprint))).toEqual([t1.id, t3.id].sort());
      expect(ids(await store.vault.findTokensByPar(record.par))).toEqual([t1.id, t2.id].sort());
      expect(ids(await store.vault.findTokensByRequestor(trid))).toEqual([t1.id, t2.id].sort());
      expect(await store.vault.findTokensByDevice(id('fp'))).toEqual([]);
    });

    it('changes status for many tokens at once with history, version and conflicts', async () => {
      const a = await token();
      const b = await token();
      const results = await store.vault.changeStatus([
        { tokenId: a.id, to: 'suspended', actor: 'cardholder', reason: 'lost device' },
        { tokenId: b.id, to: 'suspended', actor: 'cardholder', reason: 'lost device' },
        { tokenId: id('missing'), to: 'suspended', actor: 'cardholder', reason: 'lost device' },
      ]);
      expect(results).toEqual([
        { tokenId: a.id, ok: true, statusVersion: 2, from: 'active' },
        { tokenId: b.id, ok: true, statusVersion: 2, from: 'active' },
        { tokenId: expect.any(String), ok: false, problem: 'not-found' },
      ]);
      const stale = await store.vault.changeStatus([
        { tokenId: a.id, to: 'active', actor: 'issuer', reason: 'found', expectedVersion: 1 },
      ]);
      expect(stale).toEqual([{ tokenId: a.id, ok: false, problem: 'version-conflict' }]);
      await store.vault.changeStatus([
        { tokenId: a.id, to: 'active', actor: 'issuer', reason: 'found', expectedVersion: 2 },
      ]);
      const history = await store.vault.statusHistory(a.id);
      expect(history.map((h) => [h.statusVersion, h.from, h.to, h.actor, h.reason])).toEqual([
        [1, 'none', 'active', 'wallet', 'created'],
        [2, 'active', 'suspended', 'cardholder', 'lost device'],
        [3, 'suspended', 'active', 'issuer', 'found'],
      ]);
      expect((await store.vault.getToken(a.id))?.status).toBe('active');
      expect((await store.vault.getToken(a.id))?.statusVersion).toBe(3);
    });

    it('rotates wrapping keys in batches without losing a row', async () => {
      const from = id('kek');
      const to = id('kek');
      const pans = Array.from({ length: 23 }, () => newPan());
      const records = [];
      for (const pan of pans) records.push(await panRecord(pan, from));
      expect(await store.vault.countByWrappingKey(from)).toBe(23);
      let batches = 0;
      for (;;) {
        const page = await store.vault.listByWrappingKey(from, 5);
        if (page.length === 0) break;
        expect(page.length).toBeLessThanOrEqual(5);
        const changed = await store.vault.rewrap(
          page.map((row) => ({
            id: row.id,
            fromKeyId: from,
            toKeyId: to,
            wrappedDataKey: hsm.rewrap(row.wrappedDataKey, from, to),
          })),
        );
        expect(changed).toBe(page.length);
        batches++;
      }
      expect(batches).toBe(5);
      expect(await store.vault.countByWrappingKey(from)).toBe(0);
      expect(await store.vault.countByWrappingKey(to)).toBe(23);
      for (const [i, r] of records.entries()) {
        const after = await store.vault.getPanRecord(r.id);
        expect(after?.wrappingKeyId).toBe(to);
        expect(hsm.reveal(after!)).toBe(pans[i]);
      }
      // Compare-and-set: a row no longer under the old key is not overwritten.
      const stale = await store.vault.rewrap([
        { id: records[0]!.id, fromKeyId: from, toKeyId: to, wrappedDataKey: new Uint8Array(60) },
      ]);
      expect(stale).toBe(0);
      expect(hsm.reveal((await store.vault.getPanRecord(records[0]!.id))!)).toBe(pans[0]);
      // Pagination with `after` walks every row exactly once.
      const seen: string[] = [];
      let after = '';
      for (;;) {
        const page = await store.vault.listByWrappingKey(to, 4, after);
        if (page.length === 0) break;
        seen.push(...page.map((p) => p.id));
        after = page.at(-1)!.id;
      }
      expect(seen.sort()).toEqual(records.map((r) => r.id).sort());
    });

    it('token cards: profile, provisioning compare-and-set, the one-query authorization view, metadata', async () => {
      const t = await token();
      const card = await store.cards.add({
        tokenId: t.id,
        cvn: 18,
        psn: '01',
        imkKeyId: 'imk-1',
        provisioning: 'pending',
      });
      expect(await store.cards.get(t.id)).toEqual(card);
      expect(await store.cards.moveProvisioning(t.id, ['step-up'], 'loading')).toBe(false);
      expect(await store.cards.moveProvisioning(t.id, ['pending'], 'loading')).toBe(true);
      expect((await store.cards.get(t.id))?.provisioning).toBe('loading');
      const view = await store.cards.authorizationView(t.dpan);
      expect(view?.token).toEqual(await store.vault.getToken(t.id));
      expect(view?.card.cvn).toBe(18);
      expect(view?.panRecord).toEqual(await store.vault.getPanRecord(t.panRecordId));
      expect(await store.cards.authorizationView('4000000000000002')).toBeUndefined();
      await store.cards.setMetadata(t.panRecordId, { art: 'a.png' });
      await store.cards.setMetadata(t.panRecordId, { art: 'b.png', terms: 't' });
      expect(await store.cards.getMetadata(t.panRecordId)).toEqual({ art: 'b.png', terms: 't' });
      await expect(
        store.cards.add({ tokenId: t.id, cvn: 18, psn: '1', imkKeyId: 'k', provisioning: 'pending' }),
      ).rejects.toMatchObject({
        code: 'ERR_STORE_INPUT',
      });
    });

    it('webhooks: an event gets one pending delivery per matching subscription; deliveries update and list', async () => {
      const trid = await requestor();
      const all = await store.webhooks.addSubscription({
        id: id('whs'),
        requestorTrid: trid,
        url: 'https://a.example/h',
        eventTypes: [],
      });
      const some = await store.webhooks.addSubscription({
        id: id('whs'),
        requestorTrid: trid,
        url: 'https://b.example/h',
        eventTypes: ['token.deleted'],
      });
      expect(await store.webhooks.getSubscription(all.id)).toEqual(all);
      expect((await store.webhooks.listSubscriptions(trid)).length).toBe(2);
      const event = await store.webhooks.raise({
        id: id('evt'),
        requestorTrid: trid,
        eventType: 'token.created',
        payload: { a: 1 },
      });
      expect(await store.webhooks.getEvent(event.id)).toEqual(event);
      const deliveries = await store.webhooks.deliveries(event.id);
      expect(deliveries.map((d) => d.subscriptionId)).toEqual([all.id]);
      const deleted = await store.webhooks.raise({
        id: id('evt'),
        requestorTrid: trid,
        eventType: 'token.deleted',
        payload: {},
      });
      expect((await store.webhooks.deliveries(deleted.id)).map((d) => d.subscriptionId).sort()).toEqual(
        [all.id, some.id].sort(),
      );
      const due = await store.webhooks.due('9999-12-31T00:00:00.000Z', 1000);
      expect(due.filter((d) => d.eventId === event.id || d.eventId === deleted.id)).toHaveLength(3);
      await store.webhooks.updateDelivery({
        ...deliveries[0]!,
        state: 'delivered',
        attempts: 1,
        lastStatus: 204,
      });
      expect((await store.webhooks.deliveries(event.id))[0]).toMatchObject({
        state: 'delivered',
        attempts: 1,
        lastStatus: 204,
      });
      expect((await store.webhooks.listEvents(trid)).map((e) => e.id)).toContain(deleted.id);
      await expect(
        store.webhooks.updateDelivery({ ...deliveries[0]!, subscriptionId: 'none' }),
      ).rejects.toMatchObject({ code: 'ERR_STORE_NOT_FOUND' });
    });

    it('webhooks: settled events past the cutoff are deleted with their deliveries, oldest first; pending ones stay', async () => {
      const p = (n: number) => (store.dialect === 'postgres' ? `$${n}` : '?');
      const trid = await requestor();
      await store.webhooks.addSubscription({
        id: id('whs'),
        requestorTrid: trid,
        url: 'https://a.example/h',
        eventTypes: [],
      });
      const raise = async (state: 'delivered' | 'failed' | 'pending', createdAt?: string) => {
        const event = await store.webhooks.raise({
          id: id('evt'),
          requestorTrid: trid,
          eventType: 'token.created',
          payload: {},
        });
        const [delivery] = await store.webhooks.deliveries(event.id);
        await store.webhooks.updateDelivery({
          ...delivery!,
          state,
          attempts: 1,
          lastStatus: state === 'delivered' ? 204 : 500,
        });
        if (createdAt !== undefined)
          await harness.sql(`UPDATE webhook_events SET created_at = ${p(1)} WHERE id = ${p(2)}`, [
            createdAt,
            event.id,
          ]);
        return event.id;
      };
      const delivered = await raise('delivered', '2020-01-01T00:00:00.000Z');
      const failed = await raise('failed', '2020-01-02T00:00:00.000Z');
      const retrying = await raise('pending', '2019-12-31T00:00:00.000Z');
      const recent = await raise('delivered');
      const before = new Date('2021-01-01T00:00:00.000Z');
      expect(await store.webhooks.expireEvents(before, 1)).toEqual({ removed: 1, more: true });
      expect(await store.webhooks.getEvent(delivered)).toBeUndefined();
      expect(await store.webhooks.deliveries(delivered)).toEqual([]);
      expect(await store.webhooks.getEvent(failed)).toBeDefined();
      expect(await store.webhooks.expireEvents(before, 1)).toEqual({ removed: 1, more: false });
      expect(await store.webhooks.expireEvents(before, 1)).toEqual({ removed: 0, more: false });
      // Still being retried, however old: kept, and so is the recent one.
      expect((await store.webhooks.deliveries(retrying)).map((d) => d.state)).toEqual(['pending']);
      expect(await store.webhooks.getEvent(recent)).toBeDefined();
      expect((await store.webhooks.listEvents(trid)).map((e) => e.id).sort()).toEqual(
        [retrying, recent].sort(),
      );
    });

    it('accepts only a rising ATC and records each verdict with the mark', async () => {
      const t = await token();
      expect(await store.atc.highWater(t.id)).toBeUndefined();
      expect(await store.atc.commit({ tokenId: t.id, atc: 5, verdict: 'approved', reasons: [] })).toEqual({
        kind: 'recorded',
        verdict: 'approved',
        reasons: [],
        statusVersion: 1,
        previousHighWater: -1,
      });
      expect(await store.atc.commit({ tokenId: t.id, atc: 5, verdict: 'approved', reasons: [] })).toEqual({
        kind: 'replay',
        highWater: 5,
      });
      const u = await token();
      await store.atc.commit({ tokenId: u.id, atc: 2, verdict: 'approved', reasons: [] });
      expect(
        await store.atc.commit({ tokenId: u.id, atc: 9, verdict: 'approved', reasons: [] }),
      ).toMatchObject({
        kind: 'recorded',
        previousHighWater: 2,
      });
      expect((await store.atc.commit({ tokenId: t.id, atc: 3, verdict: 'approved', reasons: [] })).kind).toBe(
        'replay',
      );
      const declined = await store.atc.commit({
        tokenId: t.id,
        atc: 6,
        verdict: 'declined',
        reasons: ['CRYPTOGRAM'],
      });
      expect(declined).toMatchObject({ kind: 'recorded', verdict: 'declined', reasons: ['CRYPTOGRAM'] });
      // A declined ATC is consumed too.
      expect((await store.atc.commit({ tokenId: t.id, atc: 6, verdict: 'approved', reasons: [] })).kind).toBe(
        'replay',
      );
      expect(await store.atc.highWater(t.id)).toBe(6);
      expect((await store.atc.verdicts(t.id)).map((v) => [v.atc, v.verdict])).toEqual([
        [5, 'approved'],
        [6, 'declined'],
      ]);
      expect(await store.atc.verdict(t.id, 5)).toMatchObject({ tokenId: t.id, atc: 5, verdict: 'approved' });
      expect(await store.atc.verdict(t.id, 6)).toMatchObject({
        verdict: 'declined',
        reasons: ['CRYPTOGRAM'],
      });
      // Replayed, never recorded, out of range, or another token's: nothing.
      for (const [token, atc] of [
        [t.id, 3],
        [t.id, 7],
        [t.id, -1],
        [t.id, 70000],
        [u.id, 5],
        [id('missing'), 5],
      ] as const)
        expect(await store.atc.verdict(token, atc)).toBeUndefined();
      await expect(
        store.atc.commit({ tokenId: id('missing'), atc: 1, verdict: 'approved', reasons: [] }),
      ).rejects.toMatchObject({
        code: 'ERR_STORE_NOT_FOUND',
      });
      await expect(
        store.atc.commit({ tokenId: t.id, atc: 70000, verdict: 'approved', reasons: [] }),
      ).rejects.toMatchObject({
        code: 'ERR_STORE_INPUT',
      });
    });

    it('lets exactly one of many racing copies of one ATC win', async () => {
      const t = await token();
      for (const atc of [1, 2, 3]) {
        const results = await Promise.all(
          Array.from({ length: 16 }, () =>
            store.atc.commit({ tokenId: t.id, atc, verdict: 'approved', reasons: [] }),
          ),
        );
        expect(results.filter((r) => r.kind === 'recorded')).toHaveLength(1);
        expect(results.filter((r) => r.kind === 'replay')).toHaveLength(15);
      }
      expect((await store.atc.verdicts(t.id)).map((v) => v.atc)).toEqual([1, 2, 3]);
    });

    it('keeps the mark consistent when different ATCs race in any order', async () => {
      const t = await token();
      const atcs = [9, 3, 14, 7, 14, 2, 11, 9, 20, 1, 15, 20];
      const results = await Promise.all(
        atcs.map((atc) => store.atc.commit({ tokenId: t.id, atc, verdict: 'approved', reasons: [] })),
      );
      const recorded = atcs.filter((_, i) => results[i]!.kind === 'recorded');
      expect(new Set(recorded).size).toBe(recorded.length);
      expect(recorded).toContain(20);
      expect(await store.atc.highWater(t.id)).toBe(20);
      expect((await store.atc.verdicts(t.id)).map((v) => v.atc)).toEqual([...recorded].sort((a, b) => a - b));
    });

    it('approves nothing for a token whose suspension committed first (status read in the ATC transaction)', async () => {
      const t = await token();
      let atc = 0;
      const burst = () =>
        Array.from({ length: 12 }, () =>
          store.atc.commit({ tokenId: t.id, atc: ++atc, verdict: 'approved', reasons: [] }),
        );
      const before = burst();
      const suspension = store.vault.changeStatus([
        { tokenId: t.id, to: 'suspended', actor: 'issuer', reason: 'fraud' },
      ]);
      const during = burst();
      const [suspended] = await suspension;
      expect(suspended).toMatchObject({ ok: true, statusVersion: 2 });
      // Begun after the suspension committed: each one declined.
      const after = [];
      for (let i = 0; i < 8; i++)
        after.push(await store.atc.commit({ tokenId: t.id, atc: ++atc, verdict: 'approved', reasons: [] }));
      const racing = [...(await Promise.all(before)), ...(await Promise.all(during))];
      // On PostgreSQL a lower ATC may lose to a higher one that committed first (then it is a replay).
      expect(racing.filter((r) => r.kind === 'recorded').length).toBeGreaterThan(0);
      for (const r of racing) {
        // Every approval saw the token active, at the version before the suspension.
        if (r.kind === 'recorded' && r.verdict === 'approved') expect(r.statusVersion).toBe(1);
        if (r.kind === 'recorded' && r.statusVersion === 2) expect(r.verdict).toBe('declined');
      }
      for (const r of after)
        expect(r).toMatchObject({ kind: 'recorded', verdict: 'declined', reasons: ['TOKEN_NOT_ACTIVE'] });
      // Resumed: a caller that read the old version is still refused, a fresh one approved.
      await store.vault.changeStatus([{ tokenId: t.id, to: 'active', actor: 'issuer', reason: 'cleared' }]);
      expect(
        await store.atc.commit({
          tokenId: t.id,
          atc: 100,
          verdict: 'approved',
          reasons: [],
          expectedStatusVersion: 1,
        }),
      ).toMatchObject({ verdict: 'declined', reasons: ['TOKEN_STATUS_CHANGED'] });
      expect(
        await store.atc.commit({
          tokenId: t.id,
          atc: 101,
          verdict: 'approved',
          reasons: [],
          expectedStatusVersion: 3,
        }),
      ).toMatchObject({ verdict: 'approved', statusVersion: 3 });
    });

    it('gives idempotency keys Stripe semantics', async () => {
      const key = id('idem');
      let runs = 0;
      const work = async () => ({ token: `T${++runs}` });
      expect(await store.idempotency.run('tokenize', key, 'h1', work)).toEqual({
        kind: 'executed',
        response: { token: 'T1' },
      });
      expect(await store.idempotency.run('tokenize', key, 'h1', work)).toEqual({
        kind: 'replay',
        response: { token: 'T1' },
      });
      expect(await store.idempotency.run('tokenize', key, 'h2', work)).toEqual({ kind: 'conflict' });
      // Scopes are separate.
      expect((await store.idempotency.run('delete', key, 'h2', work)).kind).toBe('executed');
      expect(runs).toBe(2);
      // Failed work releases the key; the retry runs.
      const failing = id('idem');
      await expect(
        store.idempotency.run('tokenize', failing, 'h', async () => {
          throw new Error('issuer down');
        }),
      ).rejects.toThrow('issuer down');
      expect((await store.idempotency.run('tokenize', failing, 'h', work)).kind).toBe('executed');
      // A claimed but unfinished key answers in-progress.
      const pending = id('idem');
      expect(await store.idempotency.begin('tokenize', pending, 'h')).toEqual({ kind: 'started' });
      expect(await store.idempotency.begin('tokenize', pending, 'h')).toEqual({ kind: 'in-progress' });
      await store.idempotency.complete('tokenize', pending, { ok: 1 });
      expect(await store.idempotency.begin('tokenize', pending, 'h')).toEqual({
        kind: 'replay',
        response: { ok: 1 },
      });
      await expect(store.idempotency.complete('tokenize', pending, {})).rejects.toMatchObject({
        code: 'ERR_STORE_NOT_FOUND',
      });
    });

    it('expires idempotency keys oldest first, a batch at a time; an expired key starts anew', async () => {
      const p = (n: number) => (store.dialect === 'postgres' ? `$${n}` : '?');
      const keys = [id('old'), id('old'), id('old')];
      const kept = id('new');
      let runs = 0;
      const work = async () => ({ n: ++runs });
      for (const key of [...keys, kept]) await store.idempotency.run('tokenize', key, 'h1', work);
      for (const [i, key] of keys.entries())
        await harness.sql(`UPDATE idempotency_keys SET created_at = ${p(1)} WHERE idem_key = ${p(2)}`, [
          `2020-01-0${i + 1}T00:00:00.000Z`,
          key,
        ]);
      const before = new Date('2021-01-01T00:00:00.000Z');
      expect(await store.idempotency.expire(before, 2)).toEqual({ removed: 2, more: true });
      // The two oldest went first: the third still replays.
      expect((await store.idempotency.run('tokenize', keys[2]!, 'h1', work)).kind).toBe('replay');
      expect(await store.idempotency.expire(before, 2)).toEqual({ removed: 1, more: false });
      expect(await store.idempotency.expire(before, 2)).toEqual({ removed: 0, more: false });
      // Gone: the same key with another body runs as a first use; the recent key still conflicts.
      expect(await store.idempotency.run('tokenize', keys[0]!, 'h2', work)).toEqual({
        kind: 'executed',
        response: { n: 5 },
      });
      expect(await store.idempotency.run('tokenize', kept, 'h2', work)).toEqual({ kind: 'conflict' });
    });

    it('runs concurrent first uses of one idempotency key exactly once (one token)', async () => {
      const key = id('idem');
      const trid = await requestor();
      const record = await panRecord();
      let executions = 0;
      const results = await Promise.all(
        Array.from({ length: 12 }, () =>
          store.idempotency.run('tokenize', key, 'same-body', async () => {
            executions++;
            const t = await token({ trid, panRecordId: record.id });
            return { tokenId: t.id };
          }),
        ),
      );
      expect(executions).toBe(1);
      expect(results.filter((r) => r.kind === 'executed')).toHaveLength(1);
      for (const r of results) expect(['executed', 'in-progress', 'replay']).toContain(r.kind);
      expect(await store.vault.findTokensByRequestor(trid)).toHaveLength(1);
    });

    it('commits or rolls back a multi-repository transaction as one', async () => {
      const trid = await requestor();
      const record = await panRecord();
      const failed = store.transaction(async (tx) => {
        await token({ trid, panRecordId: record.id }, tx);
        await tx.audit.append({ actor: 'tsp', action: 'token.created', subject: 'x' });
        throw new Error('abort');
      });
      await expect(failed).rejects.toThrow('abort');
      expect(await store.vault.findTokensByRequestor(trid)).toEqual([]);
      const made = await store.transaction(async (tx) => token({ trid, panRecordId: record.id }, tx));
      expect((await store.vault.findTokensByRequestor(trid)).map((t) => t.id)).toEqual([made.id]);
    });

    it('chains the audit log and detects a changed, removed or reordered row', async () => {
      const entries = [];
      for (let i = 0; i < 6; i++)
        entries.push(
          await store.audit.append({
            actor: 'tsp',
            action: 'token.suspend',
            subject: `tok-${i}`,
            details: { i },
          }),
        );
      for (let i = 1; i < entries.length; i++) expect(entries[i]!.prevHash).toBe(entries[i - 1]!.hash);
      const good = await store.audit.verify();
      expect(good).toMatchObject({ ok: true, head: entries.at(-1)!.hash });
      const concurrent = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store.audit.append({ actor: 'wallet', action: 'race', subject: `s${i}` }),
        ),
      );
      expect(new Set(concurrent.map((e) => e.seq)).size).toBe(8);
      expect(await store.audit.verify()).toMatchObject({ ok: true });
      expect((await store.audit.list(entries[0]!.seq - 1, 2)).map((e) => e.seq)).toEqual([
        entries[0]!.seq,
        entries[1]!.seq,
      ]);
    });

    it('audit verification detects a changed, removed or reordered row', async () => {
      const [a, b] = [
        await store.audit.append({ actor: 'tsp', action: 'token.delete', subject: 'ta', details: { n: 1 } }),
        await store.audit.append({ actor: 'tsp', action: 'token.delete', subject: 'tb', details: { n: 2 } }),
      ];
      await store.audit.append({ actor: 'tsp', action: 'token.delete', subject: 'tc' });
      const p = (i: number) => (store.dialect === 'sqlite' ? '?' : `$${i}`);
      const setSubject = (seq: number, subject: string) =>
        harness.sql(`UPDATE audit_log SET subject = ${p(1)} WHERE seq = ${p(2)}`, [subject, seq]);
      // Changed.
      await setSubject(a.seq, 'tX');
      expect(await store.audit.verify()).toEqual({ ok: false, seq: a.seq, problem: 'hash' });
      await setSubject(a.seq, 'ta');
      expect((await store.audit.verify()).ok).toBe(true);
      // Changed, with the row's own hash recomputed: the next row's link breaks.
      await harness.sql(`UPDATE audit_log SET details = ${p(1)}, hash = ${p(2)} WHERE seq = ${p(3)}`, [
        '{"n":9}',
        auditHash({ ...a, details: { n: 9 } }),
        a.seq,
      ]);
      expect(await store.audit.verify()).toEqual({ ok: false, seq: b.seq, problem: 'link' });
      await harness.sql(`UPDATE audit_log SET details = ${p(1)}, hash = ${p(2)} WHERE seq = ${p(3)}`, [
        '{"n":1}',
        a.hash,
        a.seq,
      ]);
      expect((await store.audit.verify()).ok).toBe(true);
      // Removed.
      await harness.sql(`DELETE FROM audit_log WHERE seq = ${p(1)}`, [a.seq]);
      expect(await store.audit.verify()).toEqual({ ok: false, seq: a.seq, problem: 'sequence' });
      await harness.sql(
        `INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash)
         VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)})`,
        [a.seq, a.at, a.actor, a.action, a.subject, JSON.stringify(a.details), a.prevHash, a.hash],
      );
      expect((await store.audit.verify()).ok).toBe(true);
      // Reordered: the two rows swap places.
      const swap = async (x: number, y: number) => {
        await harness.sql(`UPDATE audit_log SET seq = ${p(1)} WHERE seq = ${p(2)}`, [-1, x]);
        await harness.sql(`UPDATE audit_log SET seq = ${p(1)} WHERE seq = ${p(2)}`, [x, y]);
        await harness.sql(`UPDATE audit_log SET seq = ${p(1)} WHERE seq = ${p(2)}`, [y, -1]);
      };
      await swap(a.seq, b.seq);
      expect(await store.audit.verify()).toMatchObject({ ok: false, seq: a.seq });
      await swap(a.seq, b.seq);
      expect((await store.audit.verify()).ok).toBe(true);
    });

    it('persists across close and reopen', async () => {
      const t = await token();
      const e = await store.audit.append({ actor: 'tsp', action: 'before-reopen', subject: t.id });
      await store.atc.commit({ tokenId: t.id, atc: 7, verdict: 'approved', reasons: [] });
      await store.close();
      await expect(store.vault.getToken(t.id)).rejects.toBeDefined();
      store = await harness.open();
      expect(await store.vault.getToken(t.id)).toEqual(t);
      expect(await store.atc.highWater(t.id)).toBe(7);
      expect((await store.atc.commit({ tokenId: t.id, atc: 7, verdict: 'approved', reasons: [] })).kind).toBe(
        'replay',
      );
      expect((await store.audit.verify()).ok).toBe(true);
      expect((await store.audit.list(e.seq - 1, 1))[0]).toEqual(e);
    });

    it('the last test: inspects what the run left behind', async () => {
      await store.atc.commit({ tokenId: (await token()).id, atc: 1, verdict: 'approved', reasons: [] });
      await harness.inspect?.();
    });
  });
}
