import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Engine, openSqliteEngine } from '../src/engine.ts';

/**
 * The SQLite engine builds row objects itself from the driver's raw rows: they must be exactly what
 * the driver's own objects are, for every type SQLite stores and for repeated column names.
 */
describe('rows read through the SQLite engine', () => {
  let dir: string;
  let engine: Engine;
  let driver: Database.Database;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'amulet-rows-'));
    const file = join(dir, 'r.db');
    engine = openSqliteEngine({ file });
    driver = new Database(file, { readonly: true });
  });
  afterAll(async () => {
    driver.close();
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives the same objects as the driver, for text, integers, reals, blobs and nulls', async () => {
    await engine.transaction(async (q) => {
      await q.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, n INTEGER, r REAL, b BLOB)');
      return undefined;
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            s: fc.option(fc.string(), { nil: null }),
            n: fc.option(fc.integer(), { nil: null }),
            r: fc.option(fc.double({ noNaN: true }), { nil: null }),
            b: fc.option(fc.uint8Array({ maxLength: 8 }), { nil: null }),
          }),
          { maxLength: 5 },
        ),
        async (rows) => {
          await engine.transaction(async (q) => {
            await q.exec('DELETE FROM t');
            for (const row of rows)
              await q.run(
                sql`INSERT INTO t (s, n, r, b) VALUES (${row.s}, ${row.n}, ${row.r}, ${row.b})`.compile(
                  engine.db,
                ),
              );
            return undefined;
          });
          const query = 'SELECT * FROM t ORDER BY id';
          const ours = await engine.read.all(sql.raw(query).compile(engine.db));
          expect(ours).toEqual(driver.prepare(query).all());
          expect(ours.map((o) => Object.keys(o as object))).toEqual(
            rows.map(() => ['id', 's', 'n', 'r', 'b']),
          );
        },
      ),
      { numRuns: 50 },
    );
  });

  it('keeps the later value of a repeated column name, as the driver does', async () => {
    const query = "SELECT 1 AS a, 'x' AS b, 2 AS a";
    const ours = await engine.read.all(sql.raw(query).compile(engine.db));
    expect(ours).toEqual(driver.prepare(query).all());
    expect(ours).toEqual([{ a: 2, b: 'x' }]);
  });

  it('an empty result is an empty array, and a statement without rows keeps the driver’s error', async () => {
    expect(await engine.read.all(sql.raw('SELECT * FROM t WHERE 0').compile(engine.db))).toEqual([]);
    await expect(
      engine.transaction((q) => q.all(sql.raw('UPDATE t SET n = 1').compile(engine.db))),
    ).rejects.toThrow(/does not return data/);
  });
});
