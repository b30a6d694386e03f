import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { type Engine, openSqliteEngine } from '../src/engine.ts';

/** The engine's shared read snapshots: what a read may and may not miss. */
describe('shared read snapshots (SQLite)', () => {
  const dirs: string[] = [];
  const engines: Engine[] = [];
  const others: Database.Database[] = [];
  afterEach(async () => {
    // Closed here, so a failed assertion leaves no connection open.
    for (const o of others.splice(0)) o.close();
    for (const e of engines.splice(0)) await e.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const setup = (options: { readSnapshotMs?: number }) => {
    const dir = mkdtempSync(join(tmpdir(), 'amulet-snap-'));
    dirs.push(dir);
    const file = join(dir, 's.db');
    const other = new Database(file);
    other.pragma('journal_mode = WAL');
    other.exec('CREATE TABLE t (x INTEGER)');
    others.push(other);
    const engine = openSqliteEngine({ file, sharedReadSnapshots: true, ...options });
    engines.push(engine);
    const count = async () =>
      (
        await engine.read.all<{ n: number }>(
          sql<{ n: number }>`SELECT count(*) AS n FROM t`.compile(engine.db),
        )
      )[0]!.n;
    const insert = (q: Engine['read']) => q.run(sql`INSERT INTO t VALUES (1)`.compile(engine.db));
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    return { other, engine, count, insert, nextTurn };
  };

  it('a snapshot lasts across turns up to readSnapshotMs: another connection’s commit is unseen meanwhile', async () => {
    const s = setup({ readSnapshotMs: 60_000 });
    expect(await s.count()).toBe(0);
    s.other.exec('INSERT INTO t VALUES (1)');
    await s.nextTurn();
    await s.nextTurn();
    expect(await s.count()).toBe(0);
  });

  it('the engine’s own commit ends the snapshot first: an answered write is always seen', async () => {
    const s = setup({ readSnapshotMs: 60_000 });
    expect(await s.count()).toBe(0);
    await s.engine.transaction((q) => s.insert(q));
    expect(await s.count()).toBe(1);
    s.other.exec('INSERT INTO t VALUES (1)');
    await s.engine.transaction((q) => s.insert(q));
    expect(await s.count()).toBe(3);
  });

  it('after readSnapshotMs another connection’s commit is seen', async () => {
    const s = setup({ readSnapshotMs: 5 });
    expect(await s.count()).toBe(0);
    s.other.exec('INSERT INTO t VALUES (1)');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await s.count()).toBe(1);
  });

  it('without readSnapshotMs the snapshot ends with the turn', async () => {
    const s = setup({});
    expect(await s.count()).toBe(0);
    s.other.exec('INSERT INTO t VALUES (1)');
    await s.nextTurn();
    await s.nextTurn();
    expect(await s.count()).toBe(1);
  });
});
