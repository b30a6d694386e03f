import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SoftwareHsm } from '@amulet/hsm';
import type { RuleSet } from '@amulet/risk';
import {
  type Engine,
  findClearPans,
  openPostgresEngine,
  openSqliteEngine,
  postgresConnectionDefaults,
} from '@amulet/store';
import { seededRandom } from '@amulet/transport';
import pg from 'pg';
import { ensureIssuerKeys, Issuer, type IssuerLogEntry, randomBytesFrom } from '../src/index.ts';

/** A clock the test moves by hand. */
export class TestClock {
  #ms: number;
  constructor(iso = '2026-12-03T08:00:00.000Z') {
    this.#ms = Date.parse(iso);
  }
  readonly now = (): Date => new Date(this.#ms);
  advance(ms: number): void {
    this.#ms += ms;
  }
}

export interface Harness {
  readonly issuer: Issuer;
  readonly clock: TestClock;
  readonly logs: IssuerLogEntry[];
  readonly engine: Engine;
  /** Every PAN the harness issued or saw, for the scanner. */
  readonly pans: Set<string>;
  close(): Promise<void>;
}

export interface Backend {
  readonly name: string;
  /** A fresh, empty issuer database. */
  open(): Promise<{ engine: Engine; files: () => string[]; drop: () => Promise<void> }>;
}

export const sqliteBackend: Backend = {
  name: 'SQLite',
  open: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amulet-issuer-'));
    const engine = openSqliteEngine({ file: join(dir, 'issuer.db') });
    return {
      engine,
      files: () => readdirSync(dir).map((f) => join(dir, f)),
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};

export const postgresBackend: Backend = {
  name: 'PostgreSQL',
  open: async () => {
    const { host, port, user } = postgresConnectionDefaults();
    const database = `amulet_issuer_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ host, port, user, database: 'postgres' });
    try {
      await admin.connect();
    } catch (cause) {
      throw new Error(
        `PostgreSQL is not reachable at ${host}:${port}: start it or set PGHOST/PGPORT/PGUSER`,
        { cause },
      );
    }
    await admin.query(`CREATE DATABASE ${database}`);
    const engine = await openPostgresEngine({ host, port, user, database, max: 12 });
    return {
      engine,
      files: () => [],
      drop: async () => {
        await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        await admin.end();
      },
    };
  },
};

/** An issuer on a fresh database with a software HSM, a test clock and a seeded random source. */
export async function openHarness(
  backend: Backend,
  options: { seed?: number; rules?: RuleSet; otpMaxTries?: number; holdExpiryMs?: number } = {},
): Promise<Harness & { files: () => string[] }> {
  const hsmDir = mkdtempSync(join(tmpdir(), 'amulet-issuer-hsm-'));
  const hsm = await SoftwareHsm.open({
    path: join(hsmDir, 'keys.json'),
    masterKey: new Uint8Array(randomBytes(32)),
  });
  const keys = await ensureIssuerKeys(hsm);
  const db = await backend.open();
  const clock = new TestClock();
  const logs: IssuerLogEntry[] = [];
  const issuer = await Issuer.open({
    engine: db.engine,
    hsm,
    keys,
    now: clock.now,
    random: randomBytesFrom(seededRandom(options.seed ?? 1)),
    ...(options.rules === undefined ? {} : { rules: options.rules }),
    ...(options.otpMaxTries === undefined ? {} : { otpMaxTries: options.otpMaxTries }),
    ...(options.holdExpiryMs === undefined ? {} : { holdExpiryMs: options.holdExpiryMs }),
    log: (entry) => logs.push(entry),
  });
  const pans = new Set<string>();
  return {
    issuer,
    clock,
    logs,
    engine: db.engine,
    pans,
    files: db.files,
    close: async () => {
      await db.engine.close();
      await hsm.close();
      // After close the WAL is checkpointed into the database file: scan once more.
      const leftovers = clearPansIn(db.files(), pans);
      await db.drop();
      rmSync(hsmDir, { recursive: true, force: true });
      if (leftovers.length > 0)
        throw new Error(`clear PANs in the database files after close: ${leftovers.length}`);
    },
  };
}

/** PANs of `pans` found in clear in the files. */
export function clearPansIn(files: readonly string[], pans: ReadonlySet<string>): string[] {
  const found: string[] = [];
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch {
      continue;
    }
    for (const hit of findClearPans(bytes)) if (pans.has(hit.digits)) found.push(`${file}@${hit.offset}`);
    // Also any run of the PAN's digits (findClearPans only reports Luhn-valid runs).
    const text = Buffer.from(bytes).toString('latin1');
    for (const pan of pans) if (text.includes(pan)) found.push(`${file}:${pan.slice(-4)}`);
  }
  return found;
}

let stanCounter = 0;
/** A fresh transaction key for library calls, in the contracts' form. */
export function nextKey(terminal = 'TERM0001'): string {
  stanCounter++;
  return `00000012345/${terminal}/${String(stanCounter % 1_000_000).padStart(6, '0')}/1203080000`;
}
