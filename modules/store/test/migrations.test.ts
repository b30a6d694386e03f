import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteEngine } from '../src/engine.ts';
import { openStore } from '../src/index.ts';
import { type Migration, migrate, migrateOpened, migrations } from '../src/migrations.ts';

describe('migrations', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const file = () => {
    const dir = mkdtempSync(join(tmpdir(), 'amulet-mig-'));
    dirs.push(dir);
    return join(dir, 'm.db');
  };
  const now = () => new Date(0);

  it('run once each, recorded in store_migrations, and not again on reopen', async () => {
    const path = file();
    await (await openStore({ kind: 'sqlite', file: path })).close();
    await (await openStore({ kind: 'sqlite', file: path })).close();
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT id FROM store_migrations ORDER BY id').all() as { id: number }[];
    db.close();
    expect(rows.map((r) => r.id)).toEqual(migrations.map((m) => m.id));
  });

  it('roll back a failing migration entirely and stop there', async () => {
    const engine = openSqliteEngine({ file: file() });
    const list: Migration[] = [
      { id: 1, name: 'good', statements: ['CREATE TABLE a (x INTEGER)'] },
      { id: 2, name: 'bad', statements: ['CREATE TABLE b (x INTEGER)', 'CREATE TABLE a (x INTEGER)'] },
      { id: 3, name: 'later', statements: ['CREATE TABLE c (x INTEGER)'] },
    ];
    await expect(migrate(engine, now, list)).rejects.toThrow();
    const tables = (await engine.read.all<{ name: string }>(
      engine.db.selectFrom('store_migrations').select('name').compile(),
    )) as { name: string }[];
    expect(tables.map((t) => t.name)).toEqual(['good']);
    const fixed = [list[0]!, { ...list[1]!, statements: ['CREATE TABLE b (x INTEGER)'] }, list[2]!];
    expect(await migrate(engine, now, fixed)).toEqual([2, 3]);
    expect(await migrate(engine, now, fixed)).toEqual([]);
    await engine.close();
  });

  it('migrateOpened hands back a migrated engine, and closes one whose migrations fail', async () => {
    const good: Migration[] = [{ id: 9101, name: 'a table', statements: ['CREATE TABLE t (x TEXT)'] }];
    const engine = await migrateOpened(openSqliteEngine({ file: file() }), now, good);
    await engine.transaction(async (q) => q.exec("INSERT INTO t VALUES ('ok')"));
    await engine.close();

    const bad: Migration[] = [{ id: 9102, name: 'not SQL', statements: ['CREATE TABLE ('] }];
    const failing = openSqliteEngine({ file: file() });
    await expect(migrateOpened(failing, now, bad)).rejects.toThrow();
    await expect(failing.transaction(async () => undefined)).rejects.toMatchObject({
      code: 'ERR_STORE_CLOSED',
    });
  });
});
