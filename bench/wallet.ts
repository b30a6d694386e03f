/**
 * The wallet's HTTP API under 50 concurrent clients: requests per second and p50/p99 for listing
 * a user's cards (GET /v1/cards) and for switching the default card (POST /v1/cards/{id}/default,
 * a durable write with an Idempotency-Key), each beside a bare node:http handler measured in the
 * same run that answers the same bytes without validation, authentication or storage.
 *
 * The servers (wallet on SQLite with WAL and synchronous=FULL, the bare handler, the test TSP)
 * run in a child process with its own event loop; the clients run here. Runs alternate between
 * the two servers so that load from other processes weighs on both alike.
 * Besides req/s and latency, each run reports the server process's CPU time per answered request
 * (process.cpuUsage in the child, less noisy than req/s on a shared machine), and the default
 * switch reports how many transactions shared each group commit (one fsync).
 * Run with `npx tsx bench/wallet.ts` (`--seconds <n>` per run, default 3; `--rounds <n>`, default 2;
 * `--logs` to keep the wallet's one JSON log line per request, off by default; `--only list|switch`).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

const CLIENTS = 50;
const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const SECONDS = option('--seconds', 3);
const ROUNDS = option('--rounds', 2);
const LOGS = args.includes('--logs');
/** `--only list` or `--only switch`: one scenario (for profiling with `node --cpu-prof`). */
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;

interface Fixture {
  walletPort: number;
  barePort: number;
  users: { session: string; cards: string[] }[];
  listBody: string;
}

async function serve(): Promise<void> {
  const testing = await import('../services/wallet/test/helpers/index.ts');
  const db = await testing.sqliteHarness();
  const h = await testing.startHarness(db, { seed: 'bench', logs: process.argv.includes('--logs') });
  const tenant = await testing.createTenant(h, 'bench');
  const users: Fixture['users'] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const user = await testing.createUser(h, tenant, `user${i}@bench.example`);
    const { id } = await testing.pairDevice(h, user);
    const cards = [await testing.addActiveCard(h, user, id, testing.PAN_GREEN)];
    for (let c = 1; c < 3; c++) {
      const card = await h.store.addCard({
        id: `crd_bench_${i}_${c}`,
        tenantId: tenant.id,
        userId: user.id,
        deviceId: id,
        tokenReference: `tok_bench_${i}_${c}`,
        last4: '0004',
        network: 'visa',
        artUrl: 'https://art.invalid/visa.png',
        issuerName: 'Bench Bank',
        status: 'active',
        tspStatusVersion: 0,
      });
      cards.push(card.id);
    }
    users.push({ session: user.session, cards });
  }
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const listBody = (
    await h.app.inject({
      method: 'GET',
      url: '/v1/cards',
      headers: { authorization: `Bearer ${users[0]!.session}` },
    })
  ).body;
  const cardBody = JSON.stringify(JSON.parse(listBody).cards[0]);
  // The bare handler: same routes, same answers, nothing checked or stored.
  const bare = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(req.method === 'GET' ? listBody : cardBody);
    });
  });
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  const fixture: Fixture = {
    walletPort: (h.app.server.address() as AddressInfo).port,
    barePort: (bare.address() as AddressInfo).port,
    users,
    listBody,
  };
  process.send?.(fixture);
  process.on('message', async (message) => {
    if (message === 'stats') {
      const cpu = process.cpuUsage();
      process.send?.({ stats: { ...h.store.stats(), cpuUs: cpu.user + cpu.system } });
      return;
    }
    bare.close();
    await h.close();
    await db.teardown();
    process.exit(0);
  });
}

type Call = (
  client: number,
  i: number,
) => { method: 'GET' | 'POST'; path: string; session: string; body?: string };

async function run(
  port: number,
  call: Call,
  seconds: number,
): Promise<{ rps: number; p50: number; p99: number; errors: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const one = (client: number, i: number) =>
    new Promise<void>((resolve) => {
      const c = call(client, i);
      const started = performance.now();
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: c.method,
          path: c.path,
          agent,
          headers: {
            authorization: `Bearer ${c.session}`,
            ...(c.body === undefined
              ? {}
              : { 'content-type': 'application/json', 'idempotency-key': randomUUID() }),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== 200) errors++;
            latencies.push(performance.now() - started);
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(c.body);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      for (let i = 0; performance.now() < end; i++) await one(client, i);
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), errors };
}

async function main(): Promise<void> {
  const child: ChildProcess = fork(import.meta.filename, ['--serve', ...(LOGS ? ['--logs'] : [])], {
    execArgv: process.execArgv,
  });
  const fixture = await new Promise<Fixture>((resolve) =>
    child.once('message', (m) => resolve(m as Fixture)),
  );
  const list: Call = (client) => ({
    method: 'GET',
    path: '/v1/cards',
    session: fixture.users[client]!.session,
  });
  const switchDefault: Call = (client, i) => {
    const user = fixture.users[client]!;
    return {
      method: 'POST',
      path: `/v1/cards/${user.cards[i % user.cards.length]}/default`,
      session: user.session,
      body: '{}',
    };
  };
  const results: Record<
    string,
    { rps: number[]; p50: number[]; p99: number[]; cpuUsPerRequest: number[]; errors: number }
  > = {};
  // The server process's CPU time per answered request (both servers share the child process).
  type Stats = { transactions: number; commits: number; cpuUs: number };
  const stats = () =>
    new Promise<Stats>((resolve) => {
      child.once('message', (m) => resolve((m as { stats: Stats }).stats));
      child.send('stats');
    });
  let switchTransactions = 0;
  let switchCommits = 0;
  const measure = async (name: string, port: number, call: Call): Promise<void> => {
    const before = await stats();
    const r = await run(port, call, SECONDS);
    const after = await stats();
    if (name === 'wallet, default switch') {
      switchTransactions += after.transactions - before.transactions;
      switchCommits += after.commits - before.commits;
    }
    results[name] ??= { rps: [], p50: [], p99: [], cpuUsPerRequest: [], errors: 0 };
    const entry = results[name];
    entry.rps.push(r.rps);
    entry.p50.push(r.p50);
    entry.p99.push(r.p99);
    entry.cpuUsPerRequest.push((after.cpuUs - before.cpuUs) / Math.max(1, r.rps * SECONDS));
    entry.errors += r.errors;
  };
  await run(fixture.walletPort, list, 1); // warm-up
  await run(fixture.barePort, list, 1);
  for (let round = 0; round < ROUNDS; round++) {
    if (ONLY !== 'switch') {
      await measure('bare node:http, list', fixture.barePort, list);
      await measure('wallet, list cards', fixture.walletPort, list);
    }
    if (ONLY !== 'list') {
      await measure('bare node:http, switch', fixture.barePort, switchDefault);
      await measure('wallet, default switch', fixture.walletPort, switchDefault);
    }
  }
  child.send('stop');
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const summary = Object.fromEntries(
    Object.entries(results).map(([name, r]) => [
      name,
      {
        rps: Math.round(median(r.rps)),
        p50Ms: +median(r.p50).toFixed(2),
        p99Ms: +median(r.p99).toFixed(2),
        serverCpuUs: Math.round(median(r.cpuUsPerRequest)),
        errors: r.errors,
      },
    ]),
  );
  console.log(
    `${CLIENTS} concurrent clients, ${ROUNDS} rounds of ${SECONDS} s per run, medians (node ${process.version})`,
  );
  for (const [name, s] of Object.entries(summary))
    console.log(
      `${name.padEnd(26)} ${String(s.rps).padStart(7)} req/s   p50 ${s.p50Ms} ms   p99 ${s.p99Ms} ms   server CPU ${s.serverCpuUs} µs/req   errors ${s.errors}`,
    );
  const ratio = (wallet: string, bare: string) =>
    summary[wallet] === undefined ? Number.NaN : summary[wallet].rps / summary[bare]!.rps;
  const listRatio = ratio('wallet, list cards', 'bare node:http, list');
  const switchRatio = ratio('wallet, default switch', 'bare node:http, switch');
  if (switchCommits > 0)
    console.log(
      `default switch: ${switchTransactions} transactions in ${switchCommits} commits (${(switchTransactions / switchCommits).toFixed(1)} per fsync)`,
    );
  console.log(
    `list cards: ${(listRatio * 100).toFixed(1)}% of bare; default switch: ${(switchRatio * 100).toFixed(1)}% of bare (target 70%)`,
  );
  console.log(
    JSON.stringify({
      bench: 'wallet',
      node: process.version,
      clients: CLIENTS,
      results: summary,
      listToBare: +listRatio.toFixed(3),
      switchToBare: +switchRatio.toFixed(3),
      switchTransactionsPerCommit:
        switchCommits > 0 ? +(switchTransactions / switchCommits).toFixed(1) : null,
      targetMet: listRatio >= 0.7 && switchRatio >= 0.7,
    }),
  );
}

if (process.argv.includes('--serve')) void serve();
else void main();
