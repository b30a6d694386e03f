import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { findClearPans, openStore } from '../src/index.ts';
import { storeConformance } from './conformance.ts';
import { testPans } from './fixtures.ts';

/** Every file SQLite writes for a database in WAL mode: the database, its write-ahead log and its shared memory. */
function databaseFiles(file: string): string[] {
  return [file, `${file}-wal`, `${file}-shm`];
}

function scanForTestPans(file: string): { scanned: number; found: string[] } {
  let scanned = 0;
  const found: string[] = [];
  for (const path of databaseFiles(file)) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      continue;
    }
    scanned += bytes.length;
    for (const hit of findClearPans(bytes)) if (testPans.has(hit.digits)) found.push(`${path}@${hit.offset}`);
  }
  return { scanned, found };
}

for (const groupCommit of [true, false]) {
  storeConformance(`SQLite (group commit ${groupCommit ? 'on' : 'off'})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amulet-store-'));
    const file = join(dir, 'vault.db');
    return {
      open: () => openStore({ kind: 'sqlite', file, groupCommit }),
      sql: async (statement, parameters) => {
        const db = new Database(file);
        db.pragma('busy_timeout = 5000');
        db.prepare(statement).run(...parameters);
        db.close();
      },
      inspect: async () => {
        // Invariant 2: the test stored only ciphertext, so no test PAN is in the file, the WAL or the shm.
        expect(testPans.size).toBeGreaterThan(40);
        const open = scanForTestPans(file);
        expect(open.scanned).toBeGreaterThan(0);
        expect(open.found).toEqual([]);
      },
      teardown: async () => {
        const closed = scanForTestPans(file);
        expect(closed.found).toEqual([]);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}
