import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresConnectionDefaults } from '@amulet/store';
import pg from 'pg';
import { type Clock, WalletStore } from '../../src/index.ts';

export interface StoreHarness {
  readonly label: 'SQLite' | 'PostgreSQL';
  open(now: Clock): Promise<WalletStore>;
  /** The SQLite directory holding the database, WAL and logs (undefined for PostgreSQL). */
  readonly dir: string | undefined;
  teardown(): Promise<void>;
}

/** `memoryBacked`: the files live on tmpfs (/dev/shm) when there is one, for tests about logic, not durability. */
export async function sqliteHarness(memoryBacked = false): Promise<StoreHarness> {
  const base = memoryBacked && existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = mkdtempSync(join(base, 'amulet-wallet-'));
  return {
    label: 'SQLite',
    dir,
    open: (now) => WalletStore.open({ kind: 'sqlite', file: join(dir, 'wallet.db') }, now),
    teardown: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A fresh PostgreSQL database with a random name, dropped at teardown. Unreachable: the test fails. */
export async function postgresHarness(): Promise<StoreHarness> {
  const { host, port, user } = postgresConnectionDefaults();
  const database = `amulet_wallet_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ host, port, user, database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  return {
    label: 'PostgreSQL',
    dir: undefined,
    open: (now) => WalletStore.open({ kind: 'postgres', host, port, user, database, max: 8 }, now),
    teardown: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    },
  };
}

export const harnesses = [
  ['SQLite', sqliteHarness],
  ['PostgreSQL', postgresHarness],
] as const;
