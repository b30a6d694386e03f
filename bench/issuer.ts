/**
 * Issuer authorizations over loopback TCP with durable writes: 0100 purchases through
 * @amulet/transport into the issuer, which decides and holds on SQLite (WAL, synchronous=FULL,
 * group commit) before it answers. Prints authorizations per second and p50/p99 latency with 1 and
 * with 64 requests in flight, spread over 1 000 cards, and again with 70% of the traffic on one
 * account (a hot account), and the process CPU time (user + system) per authorization of each run,
 * steadier than the rate on a shared machine; then one JSON line.
 *
 * Issuer and client run in this process. Run with `npx tsx bench/issuer.ts`; add `--postgres` to
 * run on a fresh PostgreSQL database (PGHOST/PGPORT/PGUSER, default 127.0.0.1:5432), dropped after.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { randomPool, SoftwareHsm } from '../modules/hsm/src/index.ts';
import {
  type Engine,
  openPostgresEngine,
  openSqliteEngine,
  postgresConnectionDefaults,
} from '../modules/store/src/index.ts';
import { createTcpTransport } from '../modules/transport/src/index.ts';
import { Field, interchangeSpec } from '../packages/contracts/src/index.ts';
import { createMessage, type FieldValue, type Iso8583Message } from '../packages/iso8583/src/index.ts';
import { ensureIssuerKeys, Issuer, iso8583Codec, listenIssuer } from '../services/issuer/src/index.ts';

const cardCount = 1000;
const dir = mkdtempSync(join(tmpdir(), 'amulet-bench-issuer-'));
const hsm = await SoftwareHsm.open({
  path: join(dir, 'keys.json'),
  masterKey: new Uint8Array(randomBytes(32)),
});
const onPostgres = process.argv.includes('--postgres');
const database = `amulet_bench_issuer_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ ...postgresConnectionDefaults(), database: 'postgres' });
let engine: Engine;
if (onPostgres) {
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  engine = await openPostgresEngine({ database, max: 16 });
} else {
  engine = openSqliteEngine({ file: join(dir, 'issuer.db') });
}
const issuer = await Issuer.open({
  engine,
  hsm,
  keys: await ensureIssuerKeys(hsm),
  now: () => new Date(),
  random: randomPool(),
  // Velocity rules would decline a benchmark's bursts; the rule set here is empty.
  rules: { version: 1, name: 'bench', thresholds: { review: 1000, decline: 1000 }, rules: [] },
});

const pans: string[] = [];
for (let i = 0; i < cardCount; i++) {
  const account = await issuer.createAccount({
    cardholderId: `c${i}`,
    currency: '978',
    openingBalanceMinor: 1_000_000_000,
  });
  pans.push((await issuer.issueCard({ accountId: account.id })).pan);
}
const hot = await issuer.createAccount({
  cardholderId: 'hot',
  currency: '978',
  openingBalanceMinor: 100_000_000_000,
});
const hotPan = (await issuer.issueCard({ accountId: hot.id })).pan;

const transport = createTcpTransport({ codec: iso8583Codec });
const server = await listenIssuer(
  issuer,
  transport,
  { host: '127.0.0.1', port: 0 },
  { maxHandlersInFlight: 256 },
);
const client = transport.connect(server.endpoint, { defaultTimeoutMs: 30_000, maxInFlight: 512 });
await client.connected();

let sequence = 0;
function request(pan: string): Iso8583Message {
  const n = sequence++;
  const fields = new Map<number, FieldValue>([
    [Field.pan, pan],
    [Field.processingCode, '000000'],
    [Field.amount, '000000000100'],
    [Field.transmissionDateTime, '1203080000'],
    [Field.stan, String(n % 1_000_000).padStart(6, '0')],
    [Field.acquiringInstitutionId, '12345'],
    [Field.terminalId, `T${String(Math.floor(n / 1_000_000)).padStart(7, '0')}`],
    [Field.currencyCode, '978'],
  ]);
  return createMessage(interchangeSpec, '0100', fields);
}

interface Figures {
  readonly inFlight: number;
  readonly hotShare: number;
  readonly authorizations: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly approved: number;
  /** Process CPU time (user + system) per authorization, client and issuer together: steadier than rates on a shared machine. */
  readonly cpuUsPerAuthorization: number;
}

async function run(total: number, inFlight: number, hotShare: number): Promise<Figures> {
  const latencies: number[] = [];
  let approved = 0;
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const worker = async () => {
    while (next < total) {
      next++;
      const pan =
        Math.random() < hotShare ? hotPan : (pans[Math.floor(Math.random() * pans.length)] as string);
      const t = performance.now();
      const response = await client.request(request(pan));
      latencies.push(performance.now() - t);
      if (response.fields.get(Field.responseCode) === '00') approved++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] as number;
  return {
    inFlight,
    hotShare,
    authorizations: total,
    perSecond: Math.round(total / seconds),
    p50Ms: Number(at(0.5).toFixed(2)),
    p99Ms: Number(at(0.99).toFixed(2)),
    approved,
    cpuUsPerAuthorization: Math.round((used.user + used.system) / total),
  };
}

/** The same purchases as library calls, without transport or ISO 8583, for comparison. */
async function direct(total: number, inFlight: number): Promise<Figures> {
  const latencies: number[] = [];
  let approved = 0;
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const worker = async () => {
    while (next < total) {
      const n = next++;
      const t = performance.now();
      const answer = await issuer.authorize({
        transactionKey: `direct/${n}`,
        pan: pans[n % pans.length] as string,
        amountMinor: 100,
        currency: '978',
      });
      latencies.push(performance.now() - t);
      if (answer.status === 'approved') approved++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] as number;
  return {
    inFlight,
    hotShare: 0,
    authorizations: total,
    perSecond: Math.round(total / seconds),
    p50Ms: Number(at(0.5).toFixed(2)),
    p99Ms: Number(at(0.99).toFixed(2)),
    approved,
    cpuUsPerAuthorization: Math.round((used.user + used.system) / total),
  };
}

await run(2000, 32, 0); // warm-up
const results = [await run(3000, 1, 0), await run(20_000, 64, 0), await run(20_000, 64, 0.7)];
const library = await direct(20_000, 64);
console.log(
  `library calls, 64 in flight: ${library.perSecond} authorizations/s, p50 ${library.p50Ms} ms, p99 ${library.p99Ms} ms, ` +
    `${library.cpuUsPerAuthorization} µs CPU each`,
);
for (const r of results)
  console.log(
    `${String(r.inFlight).padStart(3)} in flight, ${Math.round(r.hotShare * 100)}% on one account: ` +
      `${r.perSecond} authorizations/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ${r.cpuUsPerAuthorization} µs CPU each ` +
      `(${r.approved}/${r.authorizations} approved)`,
  );
const ledger = await issuer.checkLedger();
console.log(
  `ledger sum ${ledger.sumMinor}, commits ${engine.stats().commits} for ${engine.stats().transactions} transactions`,
);
console.log(
  JSON.stringify({
    bench: 'issuer',
    store: onPostgres ? 'postgres' : 'sqlite',
    durable: true,
    results,
    library,
    ledgerSum: ledger.sumMinor,
  }),
);

await client.close();
await server.close();
await engine.close();
await hsm.close();
if (onPostgres) {
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
}
rmSync(dir, { recursive: true, force: true });
