/**
 * @amulet/store on SQLite (WAL, synchronous=FULL): durable tokenizations per second (a PAN record
 * and a token in one transaction) with and without group commit, and ATC commits per second
 * (status read, high-water mark raised, verdict stored, one transaction each).
 *
 * Ciphertexts and lookup hashes are random bytes of realistic size: this measures the store, not
 * the HSM. Work is submitted by a fixed number of concurrent callers (`in flight`), each starting
 * its next operation when the previous one resolves (after its commit).
 * Then reads: a query returning 3 rows of 14 columns, through the engine (which builds the row
 * objects from the driver's raw arrays) and through better-sqlite3's own row objects, alternated in
 * rounds in one run; µs per query, medians of the rounds.
 * Run with `npm run bench:store` (or `npx tsx bench/store.ts`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { luhnValid, openSqliteEngine, openStore, type Store } from '../modules/store/src/index.ts';

function dpan(n: number): string {
  const body = `489537${String(n).padStart(9, '0')}`;
  for (let d = 0; d <= 9; d++) if (luhnValid(body + d)) return body + d;
  throw new Error('unreachable');
}

function par(n: number): string {
  return `V001${String(n).padStart(25, '0')}`;
}

async function pump(inFlight: number, total: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  const worker = async (): Promise<void> => {
    while (next < total) await op(next++);
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return total / ((performance.now() - start) / 1000);
}

let serial = 0;
function tokenize(store: Store, trid: string): Promise<string> {
  const n = serial++;
  return store.transaction(async (tx) => {
    const record = await tx.vault.insertPanRecord({
      id: `pan-${n}`,
      panLookup: randomBytes(32),
      panCiphertext: randomBytes(44),
      wrappingKeyId: 'kek-1',
      wrappedDataKey: randomBytes(60),
      par: par(n),
    });
    const token = await tx.vault.insertToken({
      id: `tok-${n}`,
      dpan: dpan(n),
      tokenExpiry: '2912',
      status: 'active',
      requestorTrid: trid,
      panRecordId: record.id,
      device: { certificateSerial: '01', certificateFingerprint: `fp-${n % 1000}` },
      domainControls: { posEntryModes: ['07'] },
      assuranceMethod: 'issuer-otp',
      actor: 'wallet',
    });
    return token.id;
  });
}

/** µs per 3-row query of 14 columns: the engine's reader against the driver's row objects. */
async function rowReads(dir: string): Promise<{ engineUs: number; driverUs: number }> {
  const file = join(dir, 'rows.db');
  const engine = openSqliteEngine({ file });
  await engine.transaction(async (q) => {
    await q.exec(`CREATE TABLE cards (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, user_id TEXT NOT NULL,
      device_id TEXT NOT NULL, token_reference TEXT NOT NULL, last4 TEXT NOT NULL, network TEXT NOT NULL,
      art_url TEXT NOT NULL, issuer_name TEXT NOT NULL, status TEXT NOT NULL, is_default INTEGER NOT NULL,
      version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`);
    await q.exec('CREATE INDEX cards_owner ON cards (tenant_id, user_id, created_at)');
    for (let u = 0; u < 50; u++)
      for (let c = 0; c < 3; c++) {
        const at = new Date(Date.UTC(2026, 0, 1, 0, 0, c)).toISOString();
        await q.run(
          sql`INSERT INTO cards VALUES (${`crd_${u}_${c}`}, 'ten_bench', ${`usr_${u}`}, ${`dev_${u}`},
            ${`tok_${u}_${c}`}, '0004', 'visa', 'https://art.invalid/visa.png', 'Bench Bank', 'active',
            ${c === 0 ? 1 : 0}, 0, ${at}, ${at})`.compile(engine.db),
        );
      }
    return undefined;
  });
  const text = "SELECT * FROM cards WHERE tenant_id = 'ten_bench' AND user_id = ? ORDER BY created_at";
  const users = Array.from({ length: 50 }, (_, u) => `usr_${u}`);
  const queries = users.map((u) => sql.raw(text.replace('?', `'${u}'`)).compile(engine.db));
  const driver = new Database(file, { readonly: true });
  const statements = users.map((u) => driver.prepare(text.replace('?', `'${u}'`)));
  const count = 50_000;
  const time = async (read: (i: number) => unknown): Promise<number> => {
    const start = performance.now();
    for (let i = 0; i < count; i++) await read(i);
    return ((performance.now() - start) * 1000) / count;
  };
  const engineRounds: number[] = [];
  const driverRounds: number[] = [];
  for (let round = 0; round < 5; round++) {
    engineRounds.push(await time((i) => engine.read.all(queries[i % 50]!)));
    driverRounds.push(await time(async (i) => statements[i % 50]!.all()));
  }
  driver.close();
  await engine.close();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  return { engineUs: median(engineRounds), driverUs: median(driverRounds) };
}

async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'amulet-bench-store-'));
  const rows: { name: string; inFlight: number; count: number; perSecond: number; commits: number }[] = [];
  let reads = { engineUs: 0, driverUs: 0 };
  try {
    const trid = '40000000001';
    const plans = [
      { groupCommit: false, inFlight: 256, count: 2_000 },
      { groupCommit: true, inFlight: 256, count: 20_000 },
      { groupCommit: true, inFlight: 1024, count: 20_000 },
    ];
    for (const [p, plan] of plans.entries()) {
      const store = await openStore({
        kind: 'sqlite',
        file: join(dir, `run-${p}.db`),
        groupCommit: plan.groupCommit,
      });
      await store.requestors.add({ trid, name: 'Bench Wallet', tenant: 'bench' });
      const before = store.stats().commits;
      const perSecond = await pump(plan.inFlight, plan.count, () => tokenize(store, trid));
      rows.push({
        name: `tokenize, group commit ${plan.groupCommit ? 'on' : 'off'}`,
        inFlight: plan.inFlight,
        count: plan.count,
        perSecond,
        commits: store.stats().commits - before,
      });
      if (plan.groupCommit) {
        const tokens = Array.from({ length: 1000 }, (_, i) => `tok-${serial - 1000 + i}`);
        const atcs = new Map<string, number>();
        const atcCount = 20_000;
        const commitsBefore = store.stats().commits;
        // ATCs are handed out in submission order and the writer runs transactions first in, first
        // out, so every commit should be recorded; replays are counted to prove it.
        let replays = 0;
        const atcPerSecond = await pump(plan.inFlight, atcCount, async (i) => {
          const tokenId = tokens[i % tokens.length]!;
          const atc = (atcs.get(tokenId) ?? 0) + 1;
          atcs.set(tokenId, atc);
          const result = await store.atc.commit({ tokenId, atc, verdict: 'approved', reasons: [] });
          if (result.kind === 'replay') replays++;
        });
        if (replays > 0) throw new Error(`${replays} ATC commits were refused as replays`);
        rows.push({
          name: 'ATC commit, group commit on',
          inFlight: plan.inFlight,
          count: atcCount,
          perSecond: atcPerSecond,
          commits: store.stats().commits - commitsBefore,
        });
      }
      await store.close();
    }
    reads = await rowReads(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('SQLite, WAL, synchronous=FULL');
  console.log(
    `${'operation'.padEnd(34)}${'in flight'.padStart(10)}${'count'.padStart(8)}${'ops/s'.padStart(10)}${'commits'.padStart(9)}`,
  );
  for (const r of rows)
    console.log(
      `${r.name.padEnd(34)}${String(r.inFlight).padStart(10)}${String(r.count).padStart(8)}${Math.round(r.perSecond).toString().padStart(10)}${String(r.commits).padStart(9)}`,
    );
  console.log(
    `3 rows of 14 columns: ${reads.engineUs.toFixed(2)} µs per query through the engine, ${reads.driverUs.toFixed(2)} µs with the driver's row objects`,
  );
  console.log(
    JSON.stringify({
      bench: 'store',
      dialect: 'sqlite',
      results: rows.map((r) => ({ ...r, perSecond: Math.round(r.perSecond) })),
      rowReads: { engineUs: +reads.engineUs.toFixed(2), driverUs: +reads.driverUs.toFixed(2) },
    }),
  );
}

await run();
