import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openStore, postgresConnectionDefaults } from '../src/index.ts';
import { storeConformance } from './conformance.ts';

/**
 * The same suite on PostgreSQL. Each run creates its own database and drops it at the end. The
 * server comes from PGHOST/PGPORT/PGUSER (default 127.0.0.1:5432, user postgres, trust auth). An
 * unreachable server fails the suite, it is never skipped.
 */
storeConformance('PostgreSQL', async () => {
  const { host, port, user } = postgresConnectionDefaults();
  const database = `amulet_store_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ host, port, user, database: 'postgres' });
  try {
    await admin.connect();
  } catch (cause) {
    throw new Error(
      `PostgreSQL is not reachable at ${host}:${port} as ${user}: start it or set PGHOST/PGPORT/PGUSER`,
      { cause },
    );
  }
  await admin.query(`CREATE DATABASE ${database}`);
  return {
    open: () => openStore({ kind: 'postgres', host, port, user, database, max: 12 }),
    sql: async (statement, parameters) => {
      const client = new pg.Client({ host, port, user, database });
      await client.connect();
      try {
        await client.query(statement, [...parameters]);
      } finally {
        await client.end();
      }
    },
    teardown: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    },
  };
});

describe('PostgreSQL unreachable', () => {
  it('fails with a message naming PGHOST/PGPORT', async () => {
    await expect(
      openStore({ kind: 'postgres', host: '127.0.0.1', port: 1, database: 'none' }),
    ).rejects.toMatchObject({
      code: 'ERR_STORE_UNAVAILABLE',
      message: expect.stringContaining('PGHOST/PGPORT'),
    });
  });
});
