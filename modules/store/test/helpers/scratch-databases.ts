import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { postgresConnectionDefaults } from '../../src/index.ts';

export type ScratchDatabase =
  | { readonly kind: 'sqlite'; readonly file: string }
  | {
      readonly kind: 'postgres';
      readonly host: string;
      readonly port: number;
      readonly user: string;
      readonly database: string;
    };

/**
 * Where a service's test keeps its data, by the name each describe block shows: a SQLite file in a
 * new temporary directory, or a new PostgreSQL database on the server the environment names
 * (PGHOST, PGPORT, PGUSER). Each is removed by a function pushed onto `cleanups`.
 */
export function scratchDatabases(
  service: string,
  cleanups: (() => Promise<void>)[],
): Record<'SQLite' | 'PostgreSQL', () => Promise<ScratchDatabase>> {
  return {
    SQLite: async () => {
      const dir = mkdtempSync(join(tmpdir(), `amulet-${service}-`));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      return { kind: 'sqlite', file: join(dir, `${service}.db`) };
    },
    PostgreSQL: async () => {
      const { host, port, user } = postgresConnectionDefaults();
      const database = `amulet_${service}_test_${randomBytes(6).toString('hex')}`;
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
}
