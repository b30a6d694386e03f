import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Engine, openPostgresEngine, postgresConnectionDefaults } from '../src/engine.ts';

/**
 * Statements run as named prepared statements on PostgreSQL: the same answers as before, and a
 * table changed by another connection after a statement was prepared is still read correctly.
 */
describe('prepared statements (PostgreSQL)', () => {
  const { host, port, user } = postgresConnectionDefaults();
  const database = `amulet_statements_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ host, port, user, database: 'postgres' });
  let engine: Engine;
  let other: pg.Client;

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    // One connection, so every call below reuses the statements prepared on it.
    engine = await openPostgresEngine({ host, port, user, database, max: 1 });
    other = new pg.Client({ host, port, user, database });
    await other.connect();
    await other.query('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)');
    await other.query("INSERT INTO t VALUES (1, 'one'), (2, 'two')");
  });
  afterAll(async () => {
    await other?.end();
    await engine?.close();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  const byId = (id: number) => sql`SELECT * FROM t WHERE id = ${id}`.compile(engine.db);

  it('answers a statement run many times with other parameters each time', async () => {
    for (let i = 0; i < 12; i++)
      expect(await engine.read.all(byId(1 + (i % 2)))).toEqual([
        { id: 1 + (i % 2), name: i % 2 ? 'two' : 'one' },
      ]);
    expect(
      await engine.transaction((q) =>
        q.run(sql`UPDATE t SET name = ${'uno'} WHERE id = ${1}`.compile(engine.db)),
      ),
    ).toBe(1);
    expect(await engine.read.all(byId(1))).toEqual([{ id: 1, name: 'uno' }]);
  });

  it('reads a table that another connection changed after the statement was prepared', async () => {
    expect(await engine.read.all(byId(2))).toEqual([{ id: 2, name: 'two' }]);
    await other.query("ALTER TABLE t ADD COLUMN note TEXT NOT NULL DEFAULT 'added'");
    expect(await engine.read.all(byId(2))).toEqual([{ id: 2, name: 'two', note: 'added' }]);
    expect(await engine.read.all(byId(2))).toEqual([{ id: 2, name: 'two', note: 'added' }]);
  });

  it('keeps the server’s errors for bad statements', async () => {
    await expect(
      engine.read.all(sql`SELECT * FROM missing WHERE id = ${1}`.compile(engine.db)),
    ).rejects.toMatchObject({
      code: '42P01',
    });
  });
});
