/**
 * How long clearing old Idempotency-Keys holds the event loop (`IdempotencyRepository.expire`, which
 * `amulet serve` runs every minute through `TokenService.expireIdempotencyKeys`): fills a SQLite
 * store (WAL, synchronous=FULL) with `--keys` keys, each with a stored answer of realistic size,
 * moves the clock two days on, then deletes them in batches of `--limit`, yielding to the event
 * loop between batches as serve does. Prints the time per batch (p50, max) and the longest
 * event-loop stall seen, then one JSON line.
 *
 *   npx tsx bench/store-expiry.ts [--keys 100000] [--limit 100]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { openStore } from '../modules/store/src/index.ts';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i < 0 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number`);
  return value;
}
const KEYS = flag('keys', 100_000);
const LIMIT = flag('limit', 100);
const DAY_MS = 24 * 60 * 60_000;

const dir = mkdtempSync(join(tmpdir(), 'amulet-bench-expiry-'));
let clockMs = Date.parse('2026-01-01T00:00:00Z');
const store = await openStore({ kind: 'sqlite', file: join(dir, 'tsp.db'), now: () => new Date(clockMs) });
try {
  const fillStart = performance.now();
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < KEYS; i++) {
    clockMs += 10;
    const key = randomBytes(16).toString('hex');
    inFlight.push(
      store.idempotency.run(
        'POST /v1/tokens 40010030273',
        key,
        randomBytes(32).toString('hex'),
        async () => ({
          status: 201,
          body: {
            tokenId: `tok_${key}`,
            status: 'active',
            lastFour: '0010',
            par: 'V0010013826147153836947300312',
          },
        }),
      ),
    );
    if (inFlight.length === 512) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  const fillS = (performance.now() - fillStart) / 1000;

  clockMs += 2 * DAY_MS;
  const stalls = monitorEventLoopDelay({ resolution: 1 });
  stalls.enable();
  const batches: number[] = [];
  let removed = 0;
  const sweepStart = performance.now();
  for (let more = true; more; ) {
    const started = performance.now();
    const round = await store.idempotency.expire(new Date(clockMs - DAY_MS), LIMIT);
    batches.push(performance.now() - started);
    removed += round.removed;
    more = round.more;
    await new Promise((resolve) => setImmediate(resolve));
  }
  const sweepMs = performance.now() - sweepStart;
  stalls.disable();
  batches.sort((a, b) => a - b);
  const result = {
    bench: 'store-expiry',
    node: process.version,
    keys: KEYS,
    limit: LIMIT,
    removed,
    batches: batches.length,
    sweepMs: +sweepMs.toFixed(1),
    batchP50Ms: +(batches[Math.floor(batches.length / 2)] ?? 0).toFixed(2),
    batchMaxMs: +(batches.at(-1) ?? 0).toFixed(2),
    loopStallMaxMs: +(stalls.max / 1e6).toFixed(2),
  };
  console.log(`filled ${KEYS} keys in ${fillS.toFixed(1)} s`);
  console.log(
    `deleted ${removed} in ${result.batches} batches of ${LIMIT}: ${result.sweepMs} ms in all, ` +
      `a batch p50 ${result.batchP50Ms} ms, max ${result.batchMaxMs} ms; longest event-loop stall ${result.loopStallMaxMs} ms`,
  );
  console.log(JSON.stringify(result));
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
