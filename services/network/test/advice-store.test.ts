import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresConnectionDefaults } from '@amulet/store';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { AdviceStore, type AdviceStoreOptions } from '../src/index.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A temporary SQLite file, or a fresh PostgreSQL database on the server the environment names. */
const backends: Record<string, () => Promise<AdviceStoreOptions>> = {
  SQLite: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amulet-network-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    return { kind: 'sqlite', file: join(dir, 'network.db') };
  },
  PostgreSQL: async () => {
    const { host, port, user } = postgresConnectionDefaults();
    const database = `amulet_network_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ host, port, user, database: 'postgres' });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    cleanups.push(async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    });
    return { kind: 'postgres', host, port, user, database };
  },
};

describe.each(Object.entries(backends))('the advice store on %s', (_name, backend) => {
  it('keeps each advice once until it is acknowledged, oldest first, across a reopening', async () => {
    const options = await backend();
    let clock = Date.UTC(2026, 11, 4, 20, 0, 0);
    const now = () => new Date(clock);
    const store = await AdviceStore.open(options, now);
    const first = {
      id: 'advice:k1',
      kind: 'advice',
      issuer: 'issuer',
      message: Uint8Array.of(0, 1, 0xfe),
    } as const;
    const second = {
      id: 'reversal:k0',
      kind: 'reversal',
      issuer: 'other',
      message: Uint8Array.of(7),
    } as const;
    await store.add(first);
    clock += 1000;
    await store.add(second);
    // The same advice again (a repeat of its authorization recorded twice) changes nothing.
    await store.add({ ...first, message: Uint8Array.of(9) });
    expect(await store.pending()).toEqual([first, second]);
    await store.close();

    const reopened = await AdviceStore.open(options, now);
    cleanups.push(() => reopened.close());
    expect(await reopened.pending()).toEqual([first, second]);
    await reopened.acknowledge(first.id);
    await reopened.acknowledge(first.id);
    await reopened.acknowledge('advice:never-recorded');
    expect(await reopened.pending()).toEqual([second]);
  });
});
