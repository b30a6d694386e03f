import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/index.ts';
import { newTrid } from './fixtures.ts';

describe('SQLite group commit', () => {
  const dirs: string[] = [];
  const stores: Store[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  async function open(groupCommit: boolean): Promise<{ store: Store; file: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'amulet-gc-'));
    dirs.push(dir);
    const file = join(dir, 'g.db');
    const store = await openStore({ kind: 'sqlite', file, groupCommit });
    stores.push(store);
    return { store, file };
  }

  it('commits many concurrent transactions in few commits, and each one alone without it', async () => {
    for (const groupCommit of [true, false]) {
      const { store } = await open(groupCommit);
      const before = store.stats();
      await Promise.all(
        Array.from({ length: 200 }, () => store.requestors.add({ trid: newTrid(), name: 'w', tenant: 't' })),
      );
      const after = store.stats();
      expect(after.transactions - before.transactions).toBe(200);
      if (groupCommit) expect(after.commits - before.commits).toBeLessThanOrEqual(2);
      else expect(after.commits - before.commits).toBe(200);
    }
  });

  it('fails only the failing operation of a batch and rolls back its partial writes', async () => {
    const { store } = await open(true);
    const taken = newTrid();
    await store.requestors.add({ trid: taken, name: 'first', tenant: 't' });
    const fresh = Array.from({ length: 30 }, () => newTrid());
    const partial = newTrid();
    const commitsBefore = store.stats().commits;
    const results = await Promise.allSettled([
      ...fresh.slice(0, 15).map((trid) => store.requestors.add({ trid, name: 'ok', tenant: 't' })),
      store.requestors.add({ trid: taken, name: 'duplicate', tenant: 't' }),
      store.transaction(async (tx) => {
        await tx.requestors.add({ trid: partial, name: 'half', tenant: 't' });
        throw new Error('second step failed');
      }),
      ...fresh.slice(15).map((trid) => store.requestors.add({ trid, name: 'ok', tenant: 't' })),
    ]);
    expect(store.stats().commits - commitsBefore).toBe(1);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(2);
    expect(results[15]).toMatchObject({ status: 'rejected', reason: { code: 'ERR_STORE_DUPLICATE' } });
    expect(results[16]).toMatchObject({ status: 'rejected', reason: { message: 'second step failed' } });
    for (const trid of fresh) expect((await store.requestors.get(trid))?.name).toBe('ok');
    expect(await store.requestors.get(partial)).toBeUndefined();
    expect((await store.requestors.get(taken))?.name).toBe('first');
  });

  it('resolves each caller only after its commit is visible to another connection', async () => {
    const { store, file } = await open(true);
    const observer = new Database(file, { readonly: true });
    try {
      const seenAtResolve: boolean[] = [];
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          const trid = newTrid();
          await store.requestors.add({ trid, name: 'w', tenant: 't' });
          seenAtResolve.push(
            observer.prepare('SELECT 1 FROM token_requestors WHERE trid = ?').get(trid) !== undefined,
          );
        }),
      );
      expect(seenAtResolve).toHaveLength(50);
      expect(seenAtResolve.every(Boolean)).toBe(true);
    } finally {
      observer.close();
    }
  });

  it('lets exactly one of two store instances on one file record a racing ATC', async () => {
    const { store: first, file } = await open(true);
    const second = await openStore({ kind: 'sqlite', file, groupCommit: false });
    stores.push(second);
    const trid = newTrid();
    await first.requestors.add({ trid, name: 'w', tenant: 't' });
    await first.vault.insertPanRecord({
      id: 'pan-1',
      par: 'V0010000000000000000000000001',
      panLookup: new Uint8Array(32).fill(1),
      panCiphertext: new Uint8Array(40).fill(2),
      wrappingKeyId: 'kek',
      wrappedDataKey: new Uint8Array(60).fill(3),
    });
    await first.vault.insertToken({
      id: 'tok-1',
      dpan: '4895370000000018',
      tokenExpiry: '2912',
      status: 'active',
      requestorTrid: trid,
      panRecordId: 'pan-1',
      device: { certificateSerial: '01', certificateFingerprint: 'fp' },
      domainControls: {},
      assuranceMethod: 'none',
      actor: 'tsp',
    });
    for (const atc of [1, 2, 3, 4]) {
      const results = await Promise.all(
        [first, second, first, second].map((s) =>
          s.atc.commit({ tokenId: 'tok-1', atc, verdict: 'approved', reasons: [] }),
        ),
      );
      expect(results.filter((r) => r.kind === 'recorded')).toHaveLength(1);
    }
    expect((await second.atc.verdicts('tok-1')).map((v) => v.atc)).toEqual([1, 2, 3, 4]);
  });

  it('refuses work after close', async () => {
    const { store } = await open(true);
    await store.close();
    await expect(store.requestors.add({ trid: newTrid(), name: 'w', tenant: 't' })).rejects.toMatchObject({
      code: 'ERR_STORE_CLOSED',
    });
  });
});
