/**
 * Authorizations end to end over loopback TCP, on the real services (issue 8, "Speed"):
 * terminal-equivalent 0100s (field 55 from a real secure element through the terminal's kernel,
 * so every cryptogram verifies in the token service's HSM) go to the acquirer, which forwards to
 * the network switch, which asks the real token service (Authorizer, startAuthorizationServer) to
 * detokenize and validate, then the real issuer (listenIssuer: risk rules, ledger holds). Every
 * database is SQLite in WAL mode with synchronous=FULL and group commit: nothing is answered before
 * its commit. Five processes: the terminals (this one), the acquirer, the network, the token
 * service and the issuer (ID&V between those two over ISO 8583 at provisioning). Stepped
 * open-loop rates, then a closed loop at saturation.
 *
 *   npx tsx bench/authorize.ts [--rates 500,1000,1500,2000,3000] [--seconds 3] [--hot 0.7]
 *                              [--saturation 6000] [--profile acquirer,network,tsp,issuer] [--profile-dir DIR]
 *                              [--semi-space MiB]
 *
 * Cards are issued at the issuer, tokenized at the token service (JWE, device certificate, ID&V
 * green) and personalized with the ICC master key the token service's HSM derived (a TR-31 key
 * block opened on the SE side). `--hot 0.7` sends 70% of the traffic through the hot merchant's
 * terminal on cards that all draw on one account. `--profile` runs the named processes under
 * `node --cpu-prof` (profiles in --profile-dir, default a temporary directory). Prints a table and one JSON line.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
import { AcquirerHost, AcquirerStore } from '@amulet/acquirer';
import { decodeTokenData, TokenDataId } from '@amulet/contracts';
import type { Iso8583Message } from '@amulet/iso8583';
import { iso8583Codec as issuerCodec, listenIssuer } from '@amulet/issuer';
import { interchangeCodec, MessageLog, NetworkSwitch } from '@amulet/network';
import { loadRuleSet } from '@amulet/risk';
import { inProcessTransport, memoryBlobStore, memoryCounter, SecureElement } from '@amulet/secure-element';
import { authorizationRequest, defaultKernelConfig, readCard } from '@amulet/terminal';
import { startAuthorizationServer } from '@amulet/token-service';
import {
  createTcpTransport,
  interceptRequests,
  type TcpEndpoint,
  type TransportClient,
} from '@amulet/transport';
import {
  type AddCardInput,
  type IssuedCardData,
  IssuerIdv,
  openIssuerSide,
  openTokenServiceSide,
  type ProvisionedCard,
  personalize,
} from '../apps/terminal/test/support/parties.ts';
import { rigRoutes } from '../apps/terminal/test/support/rig.ts';
import { randomPool } from '../modules/hsm/src/index.ts';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const tcp = createTcpTransport<Iso8583Message>({ codec: interchangeCodec });
/** Cards with their own accounts, and cards that all draw on one hot account. */
const CARDS = Number(flag('cards') ?? 256);
const HOT_CARDS = 256;
const TERMINALS = 16;
const ACQUIRER_ID = '123456';
const HOT_MERCHANT = 'MERCHANT000001';
const MERCHANT = 'MERCHANT000002';

/**
 * The issuer's default rules (services/issuer default-rules.ts) with the card velocity limits
 * lifted: a bench card taps hundreds of times a minute, which the defaults rightly decline. The
 * rules are still evaluated on every authorization.
 */
const benchRules = loadRuleSet({
  version: 1,
  name: 'issuer-bench',
  thresholds: { review: 50, decline: 100 },
  rules: [
    {
      id: 'card-velocity-minute',
      reason: 'VELOCITY_CARD',
      score: 100,
      when: { feature: 'velocity.card.1m', op: 'gt', value: 1e9 },
    },
    {
      id: 'card-velocity-hour',
      reason: 'VELOCITY_CARD',
      score: 50,
      when: { feature: 'velocity.card.1h', op: 'gt', value: 1e9 },
    },
    {
      id: 'amount-above-history',
      reason: 'AMOUNT_ABOVE_HISTORY',
      score: 30,
      when: {
        all: [
          { feature: 'accountHistoryCount', op: 'gte', value: 10 },
          { feature: 'amountMinor', op: 'gt', ref: { feature: 'accountMaxAmountMinor', times: 5 } },
        ],
      },
    },
    {
      id: 'merchant-category',
      reason: 'MERCHANT_CATEGORY',
      score: 30,
      when: { feature: 'merchantCategoryCode', op: 'in', values: ['7995', '6051'] },
    },
  ],
});

const benchWorld = { now: () => new Date(), random: randomPool() };

/** One process's figures for a step: where its time went, and the round trips it timed. */
interface ProcessReport {
  /** CPU (user + system) per completed authorization of the step, in microseconds. */
  readonly cpuMs: number;
  /** The part of cpuMs spent in the kernel (writes, fsync, sockets). */
  readonly systemMs: number;
  /** Share of the step the event loop was busy (perf_hooks eventLoopUtilization). */
  readonly busy: number;
  /** How late a 10 ms timer fired: p99 and worst, in ms (a stall of the loop shows here). */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  readonly gcMs: number;
  readonly gcMaxMs: number;
  /** Database transactions and commits (fsyncs) in the step, when the process has a database. */
  readonly transactions: number;
  readonly commits: number;
  /** The JavaScript heap in use at the end of the step, in MB. */
  readonly heapMb: number;
  /** Round trips to a peer: count, p50 and p99 in ms. */
  readonly hops: Readonly<Record<string, readonly [number, number, number]>>;
  /** Requests to a peer that failed, by transport error code (ERR_TIMEOUT, ERR_TOO_MANY_IN_FLIGHT). */
  readonly hopFailures: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/**
 * Watches this process's event loop, CPU and garbage collection, and times the round trips of
 * the clients passed to `timed`; `report()` gives the figures since the last report.
 */
function watchProcess() {
  // The histogram holds the intervals between ticks of a 10 ms timer; lateness is the excess.
  const LOOP_TICK_MS = 10;
  const delay = monitorEventLoopDelay({ resolution: LOOP_TICK_MS });
  delay.enable();
  let gcMs = 0;
  let gcMaxMs = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcMs += entry.duration;
      gcMaxMs = Math.max(gcMaxMs, entry.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  const hops = new Map<string, number[]>();
  const hopFailures = new Map<string, Map<string | undefined, number>>();
  let database: (() => { transactions: number; commits: number }) | undefined;
  let written = { transactions: 0, commits: 0 };
  let cpu = process.cpuUsage();
  let elu = performance.eventLoopUtilization();
  return {
    /** The database whose commits the reports count. */
    database(stats: () => { transactions: number; commits: number }): void {
      database = stats;
      written = stats();
    },
    timed<M>(name: string, client: TransportClient<M>): TransportClient<M> {
      const times: number[] = [];
      hops.set(name, times);
      const failures = new Map<string | undefined, number>();
      hopFailures.set(name, failures);
      return interceptRequests(client, (message, options) => {
        const started = performance.now();
        const answer = client.request(message, options);
        answer.then(
          () => times.push(performance.now() - started),
          (error: { code?: string }) => failures.set(error.code, (failures.get(error.code) ?? 0) + 1),
        );
        return answer;
      });
    },
    report(): ProcessReport {
      const used = process.cpuUsage(cpu);
      const loop = performance.eventLoopUtilization(elu);
      const now = database?.() ?? written;
      const out: ProcessReport = {
        transactions: now.transactions - written.transactions,
        commits: now.commits - written.commits,
        cpuMs: (used.user + used.system) / 1000,
        systemMs: used.system / 1000,
        busy: Number(loop.utilization.toFixed(3)),
        loopDelayP99Ms: Number(Math.max(0, delay.percentile(99) / 1e6 - LOOP_TICK_MS).toFixed(2)),
        loopDelayMaxMs: Number(Math.max(0, delay.max / 1e6 - LOOP_TICK_MS).toFixed(2)),
        gcMs: Number(gcMs.toFixed(1)),
        gcMaxMs: Number(gcMaxMs.toFixed(2)),
        heapMb: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
        hops: Object.fromEntries(
          [...hops].map(([name, times]) => {
            times.sort((a, b) => a - b);
            const at = (q: number) => Number((times[Math.floor(q * (times.length - 1))] ?? 0).toFixed(2));
            return [name, [times.length, at(0.5), at(0.99)] as const];
          }),
        ),
        hopFailures: Object.fromEntries(
          [...hopFailures].map(([name, failures]) => [name, Object.fromEntries(failures)]),
        ),
      };
      for (const times of hops.values()) times.length = 0;
      for (const failures of hopFailures.values()) failures.clear();
      written = now;
      delay.reset();
      gcMs = 0;
      gcMaxMs = 0;
      cpu = process.cpuUsage();
      elu = performance.eventLoopUtilization();
      return out;
    },
  };
}

const watch = watchProcess();
/** Children answer `{ report: true }` with their figures since the last one. */
process.on('message', (m: { report?: true }) => {
  if (m.report === true) process.send?.({ report: watch.report() });
});

/** The issuer process: its ISO 8583 port, and card issuance for the bench's cardholders over IPC. */
async function issuerRole(dir: string): Promise<void> {
  const side = await openIssuerSide({ backend: 'sqlite', world: benchWorld, issuerRules: benchRules, dir });
  watch.database(() => side.engine.stats());
  const hot = await side.issuer.createAccount({
    cardholderId: 'hot-holder',
    currency: '978',
    openingBalanceMinor: 900_000_000_000,
  });
  const server = await listenIssuer(
    side.issuer,
    createTcpTransport({ codec: issuerCodec }),
    { host: '127.0.0.1', port: 0 },
    { maxHandlersInFlight: 1024 },
  );
  process.on('message', async (m: { issue?: AddCardInput[]; ledger?: true }) => {
    if (m.issue !== undefined) {
      const issued: IssuedCardData[] = [];
      for (const input of m.issue) issued.push(await side.issue(input));
      process.send?.({ issued });
    } else if (m.ledger === true) {
      const check = await side.issuer.checkLedger();
      process.send?.({
        ledger: {
          sumMinor: check.sumMinor,
          mismatched: check.mismatchedAccounts.length,
          postings: check.postings,
        },
      });
    }
  });
  process.on('SIGTERM', async () => {
    await server.close();
    await side.close();
    process.exit(0);
  });
  process.send?.({ issuer: server.endpoint.port, hotAccountId: hot.id });
}

/** The token service process: ID&V to the issuer's port, tokenization over IPC, then its ISO 8583 port. */
async function tokenServiceRole(dir: string, issuerEndpoint: TcpEndpoint): Promise<void> {
  const toIssuer = createTcpTransport({ codec: issuerCodec }).connect(issuerEndpoint, { maxInFlight: 1024 });
  await toIssuer.connected();
  const side = await openTokenServiceSide({
    backend: 'sqlite',
    world: benchWorld,
    dir,
    idv: IssuerIdv.over(toIssuer, benchWorld),
  });
  watch.database(() => side.store.stats());
  const server = await startAuthorizationServer(side.authorizer);
  process.on('message', async (m: { tokenize?: { card: IssuedCardData; input: AddCardInput }[] }) => {
    if (m.tokenize === undefined) return;
    const work = m.tokenize;
    const provisioned: ProvisionedCard[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < work.length) {
          const i = next++;
          provisioned[i] = await side.tokenize(work[i]!.card, work[i]!.input);
        }
      }),
    );
    // The real PAN stays with the token service: the terminals need only the token and its key block.
    process.send?.({ provisioned: provisioned.map((c) => ({ ...c, token: { ...c.token, realPan: '' } })) });
  });
  process.on('SIGTERM', async () => {
    await server.close();
    await side.close();
    process.exit(0);
  });
  process.send?.({ tsp: server.endpoint.port });
}

/** Sends `message` to a child and resolves with its next message. */
function ask(proc: ChildProcess, message: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    proc.once('message', (m) => resolve(m as Record<string, unknown>));
    proc.send(message as never);
  });
}

async function network(tspEndpoint: TcpEndpoint, issuerEndpoint: TcpEndpoint): Promise<void> {
  const options = { maxInFlight: 4096, defaultTimeoutMs: 5000 };
  const tsp = watch.timed('tsp', tcp.connect(tspEndpoint, options));
  const issuer = watch.timed('issuer', tcp.connect(issuerEndpoint, options));
  await Promise.all([tsp.connected(), issuer.connected()]);
  const sw = new NetworkSwitch({
    routes: rigRoutes(),
    peers: new Map([
      ['tsp', tsp],
      ['issuer', issuer],
    ]),
    // The log is kept (masked) as in production, bounded in memory.
    log: new MessageLog({ maxEntries: 1000 }),
  });
  const server = await tcp.listen({ handler: sw.handle, maxHandlersInFlight: 1024 });
  process.on('SIGTERM', () => process.exit(0));
  process.send?.({ network: server.endpoint.port });
}

async function acquirer(networkEndpoint: TcpEndpoint, file: string): Promise<void> {
  const store = await AcquirerStore.open({ kind: 'sqlite', file });
  watch.database(() => store.stats());
  const client = watch.timed(
    'network',
    tcp.connect(networkEndpoint, { maxInFlight: 4096, defaultTimeoutMs: 5000 }),
  );
  await client.connected();
  const host = await AcquirerHost.start({ store, network: client, acquiringInstitutionId: ACQUIRER_ID });
  await host.addMerchant({ merchantId: HOT_MERCHANT, nameLocation: 'AMULET HOT SHOP', mcc: '5814' });
  await host.addMerchant({ merchantId: MERCHANT, nameLocation: 'AMULET BENCH', mcc: '5411' });
  for (let t = 0; t < TERMINALS; t++)
    await host.addTerminal({
      terminalId: `T${String(t).padStart(7, '0')}`,
      merchantId: t === 0 ? HOT_MERCHANT : MERCHANT,
    });
  const server = await tcp.listen({ handler: host.handle, maxHandlersInFlight: 1024 });
  process.on('SIGTERM', () => process.exit(0));
  process.send?.({ acquirer: server.endpoint.port });
}

/** `--semi-space <MiB>`: the parties' V8 semi-space; 0 leaves V8's default (16 MiB on 64-bit). */
const SEMI_SPACE_MIB = Number(flag('semi-space') ?? 0);
const profiled = new Set((flag('profile') ?? '').split(',').filter((r) => r !== ''));
const profileDir = flag('profile-dir') ?? join(tmpdir(), 'amulet-bench-profiles');

function child(
  role: string,
  extra: string[],
): Promise<{ process: ChildProcess; message: Record<string, unknown> }> {
  const execArgv = [...process.execArgv];
  // A larger young generation (V8 semi-space, MiB) for the parties: more of an authorization's
  // objects die in scavenges instead of being promoted (docs/terminal.md has what it changed).
  if (SEMI_SPACE_MIB > 0) execArgv.push(`--max-semi-space-size=${SEMI_SPACE_MIB}`);
  if (profiled.has(role)) {
    // One directory per role: tsx's loader thread writes a profile of its own next to the main one.
    mkdirSync(join(profileDir, role), { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${join(profileDir, role)}`);
  }
  if (process.env.TRACE_GC_ROLE === role) {
    execArgv.push('--trace-gc');
  }
  const proc = fork(import.meta.filename, ['--role', role, ...extra], { execArgv });
  return new Promise((resolve, reject) => {
    proc.once('message', (m) => resolve({ process: proc, message: m as Record<string, unknown> }));
    proc.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
  });
}

const endpointOf = (text: string): TcpEndpoint => {
  const [host, port] = text.split(':');
  return { host: host ?? '127.0.0.1', port: Number(port) };
};

/** Taps made in advance through the kernel against personalized secure elements: valid cryptograms, rising ATCs. */
async function prepare(cards: readonly ProvisionedCard[], count: number, hot: number): Promise<Uint8Array[]> {
  const ses = cards.map((card, i) => {
    const se = SecureElement.open({
      deviceKey: new Uint8Array(32).fill(1),
      rng: (n) => new Uint8Array(n).fill(i & 0xff),
      clock: () => 0,
      blobs: memoryBlobStore(),
      counter: memoryCounter(),
    });
    personalize(se, card);
    return inProcessTransport(se);
  });
  const now = new Date();
  const stans = new Array<number>(TERMINALS).fill(0);
  // The taps wait encoded, packed in large blocks, and are decoded just before they are sent: tens
  // of thousands of decoded messages (a map, strings, twenty field 55 data objects each) kept for
  // the whole run made this process's garbage collections long enough to show in the latencies.
  const out: Uint8Array[] = [];
  let block = new Uint8Array(0);
  let used = 0;
  const keep = (bytes: Uint8Array): void => {
    if (used + bytes.length > block.length) {
      block = new Uint8Array(1 << 20);
      used = 0;
    }
    block.set(bytes, used);
    out.push(block.subarray(used, used + bytes.length));
    used += bytes.length;
  };
  let seed = 0x9e3779b9;
  const random = () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  let cold = 0;
  let warm = 0;
  const date = `${String(now.getUTCFullYear() % 100).padStart(2, '0')}${String(now.getUTCMonth() + 1).padStart(2, '0')}${String(now.getUTCDate()).padStart(2, '0')}`;
  for (let n = 0; n < count; n++) {
    // Round robin within each group keeps one card's taps far apart. Each card also keeps to one
    // terminal, as a wearable taps at one till at a time: its taps then travel one connection and
    // reach the token service in ATC order however long the queues grow. Spread over terminals, a
    // card's next tap could overtake the one before it whenever the acquirer read its connections'
    // backlogs in a different order than they were written, and the token service rightly refuses
    // an ATC at or below its high-water mark ('82', EMV Book 2 and DESIGN.md invariant 5).
    const isHot = random() < hot;
    const card = isHot ? CARDS + (warm++ % HOT_CARDS) : cold++ % CARDS;
    const terminal = isHot ? 0 : 1 + (card % (TERMINALS - 1));
    const un = new Uint8Array([n >>> 24, n >>> 16, n >>> 8, n]);
    const amount = 100 + (n % 4000);
    const read = await readCard(ses[card]!, { amount, unpredictableNumber: un, date }, defaultKernelConfig);
    if (read.kind !== 'online') throw new Error(`tap ${n} ended at the terminal: ${read.outcome.reason}`);
    stans[terminal] = (stans[terminal]! % 999_999) + 1;
    keep(
      interchangeCodec.encode(
        authorizationRequest(
          read.card,
          amount,
          String(stans[terminal]).padStart(6, '0'),
          now,
          {
            terminalId: `T${String(terminal).padStart(7, '0')}`,
            merchantId: terminal === 0 ? HOT_MERCHANT : MERCHANT,
            merchantNameLocation: 'AMULET BENCH',
          },
          defaultKernelConfig.currency,
        ),
      ),
    );
  }
  return out;
}

interface Step {
  readonly label: string;
  readonly offered: number;
  readonly completed: number;
  readonly approved: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly processes?: Record<string, ProcessReport>;
}

function summarize(
  label: string,
  offered: number,
  latencies: number[],
  approved: number,
  seconds: number,
): Step {
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return {
    label,
    offered,
    completed: latencies.length,
    approved,
    perSecond: Math.round(latencies.length / seconds),
    p50Ms: Number(at(0.5).toFixed(2)),
    p99Ms: Number(at(0.99).toFixed(2)),
    p999Ms: Number(at(0.999).toFixed(2)),
  };
}

const codes = new Map<string, number>();
/** Declines by field 39 and the token service's reasons (field 48 '04'), e.g. `82 ATC_REPLAY`. */
const declines = new Map<string, number>();
/** Taps of each card sent and not yet answered, to tell an ATC refused after an overtaking. */
const cardInFlight = new Map<string, number>();
const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

async function send(clients: TransportClient<Iso8583Message>[], tap: Uint8Array): Promise<[number, boolean]> {
  const message = interchangeCodec.decode(tap);
  const terminal = Number((message.fields.get(41) as string).slice(1));
  const card = message.fields.get(2) as string;
  const earlierInFlight = cardInFlight.get(card) ?? 0;
  cardInFlight.set(card, earlierInFlight + 1);
  const started = performance.now();
  try {
    const answer = await clients[terminal]!.request(message, { timeoutMs: 10_000 });
    const code = String(answer.fields.get(39));
    count(codes, code);
    if (code !== '00') {
      const data = answer.fields.get(48);
      const reasons = typeof data === 'string' ? decodeTokenData(data).get(TokenDataId.verdictReasons) : '';
      const overtaken =
        reasons === 'ATC_REPLAY' ? ` (earlier tap of the card in flight: ${earlierInFlight > 0})` : '';
      count(declines, `${code} ${reasons ?? ''}${overtaken}`.trim());
    }
    return [performance.now() - started, code === '00'];
  } finally {
    cardInFlight.set(card, (cardInFlight.get(card) ?? 1) - 1);
  }
}

/** Open loop: `rate` requests per second for `seconds`, sent in 2 ms slices whatever the answers do. */
async function openLoop(
  clients: TransportClient<Iso8583Message>[],
  queue: Uint8Array[],
  rate: number,
  seconds: number,
): Promise<Step> {
  const latencies: number[] = [];
  let approved = 0;
  let offered = 0;
  const pending: Promise<void>[] = [];
  const total = Math.floor(rate * seconds);
  const start = performance.now();
  while (offered < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    for (; offered < due; offered++) {
      const tap = queue.shift();
      if (tap === undefined) break;
      pending.push(
        send(clients, tap).then(
          ([ms, ok]) => {
            latencies.push(ms);
            if (ok) approved++;
          },
          () => undefined,
        ),
      );
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.all(pending);
  return summarize(`${rate}/s`, offered, latencies, approved, (performance.now() - start) / 1000);
}

/** Closed loop: `inFlight` requests outstanding at all times until the queue is used up. */
async function closedLoop(
  clients: TransportClient<Iso8583Message>[],
  queue: Uint8Array[],
  inFlight: number,
): Promise<Step> {
  const latencies: number[] = [];
  let approved = 0;
  const offered = queue.length;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let tap = queue.shift(); tap !== undefined; tap = queue.shift()) {
        const [ms, ok] = await send(clients, tap).catch(() => [Number.NaN, false] as [number, boolean]);
        if (!Number.isNaN(ms)) latencies.push(ms);
        if (ok) approved++;
      }
    }),
  );
  return summarize(
    `saturation (${inFlight} in flight)`,
    offered,
    latencies,
    approved,
    (performance.now() - start) / 1000,
  );
}

async function main(): Promise<void> {
  const role = flag('role');
  if (role === 'issuer') return issuerRole(flag('dir')!);
  if (role === 'tsp') return tokenServiceRole(flag('dir')!, endpointOf(flag('issuer')!));
  if (role === 'network') return network(endpointOf(flag('tsp')!), endpointOf(flag('issuer')!));
  if (role === 'acquirer') return acquirer(endpointOf(flag('network')!), flag('db')!);

  const rates = (flag('rates') ?? '500,1000,1500,2000,3000').split(',').map(Number);
  const seconds = Number(flag('seconds') ?? 3);
  const hot = Number(flag('hot') ?? 0);
  const saturation = Number(flag('saturation') ?? 6000);
  const children: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'amulet-bench-authorize-'));
  try {
    const provisionStart = performance.now();
    const issuer = await child('issuer', ['--dir', dir]);
    children.push(issuer.process);
    const tsp = await child('tsp', ['--dir', dir, '--issuer', `127.0.0.1:${issuer.message.issuer}`]);
    children.push(tsp.process);
    const inputs: AddCardInput[] = Array.from({ length: CARDS + HOT_CARDS }, (_, i) => ({
      deviceSerial: `BENCH-${i}`,
      network: i % 2 === 0 ? 'visa' : 'mastercard',
      appletId: 'card',
      label: 'BENCH',
      openingBalanceMinor: 900_000_000_000,
      ...(i >= CARDS ? { accountId: issuer.message.hotAccountId as string } : {}),
    }));
    // The issuer mails each card to its holder, who gives it to the wallet (JWE to the token service).
    const issued = (await ask(issuer.process, { issue: inputs })).issued as IssuedCardData[];
    const cards = (
      await ask(tsp.process, { tokenize: issued.map((card, i) => ({ card, input: inputs[i]! })) })
    ).provisioned as ProvisionedCard[];
    console.log(
      `provisioned ${cards.length} cards (issued, tokenized with ID&V, keys derived) in ${((performance.now() - provisionStart) / 1000).toFixed(1)} s`,
    );
    const n = await child('network', [
      '--tsp',
      `127.0.0.1:${tsp.message.tsp}`,
      '--issuer',
      `127.0.0.1:${issuer.message.issuer}`,
    ]);
    children.push(n.process);
    const a = await child('acquirer', [
      '--network',
      `127.0.0.1:${n.message.network}`,
      '--db',
      join(dir, 'acquirer.db'),
    ]);
    children.push(a.process);
    const total = rates.reduce((sum, r) => sum + r * seconds, 0) + saturation + 500;
    const prepareStart = performance.now();
    const queue = await prepare(cards, total, hot);
    console.log(
      `prepared ${queue.length} taps in ${((performance.now() - prepareStart) / 1000).toFixed(1)} s`,
    );
    const clients = Array.from({ length: TERMINALS }, () =>
      tcp.connect({ host: '127.0.0.1', port: a.message.acquirer as number }, { maxInFlight: 4096 }),
    );
    await Promise.all(clients.map((c) => c.connected()));
    await closedLoop(clients, queue.splice(0, 500), 16); // warm-up
    const roles = { issuer: issuer.process, tsp: tsp.process, network: n.process, acquirer: a.process };
    /** Every process's figures since the last call; the terminals' are this process's. */
    const reports = async (): Promise<Record<string, ProcessReport>> => {
      const out: Record<string, ProcessReport> = { terminals: watch.report() };
      for (const [role, proc] of Object.entries(roles))
        out[role] = (await ask(proc, { report: true })).report as ProcessReport;
      return out;
    };
    const measured = async (run: () => Promise<Step>): Promise<Step> => {
      await reports();
      const step = await run();
      return { ...step, processes: await reports() };
    };
    const steps: Step[] = [];
    for (const rate of rates) steps.push(await measured(() => openLoop(clients, queue, rate, seconds)));
    if (saturation > 0)
      steps.push(await measured(() => closedLoop(clients, queue.splice(0, saturation), 128)));
    console.log('step                    | offered | done   | approved | per s | p50 ms | p99 ms | p99.9 ms');
    for (const s of steps)
      console.log(
        `${s.label.padEnd(23)} | ${String(s.offered).padStart(7)} | ${String(s.completed).padStart(6)} | ${String(s.approved).padStart(8)} | ${String(s.perSecond).padStart(5)} | ${s.p50Ms.toFixed(2).padStart(6)} | ${s.p99Ms.toFixed(2).padStart(6)} | ${s.p999Ms.toFixed(2).padStart(8)}`,
      );
    console.log(
      'step                    | process   | CPU µs/auth | kernel | busy | loop p99 ms | loop max ms | GC ms | GC max ms | heap MB | auths/commit | round trips (count p50 p99 ms)',
    );
    for (const s of steps)
      for (const [role, r] of Object.entries(s.processes ?? {}))
        console.log(
          `${s.label.padEnd(23)} | ${role.padEnd(9)} | ${String(Math.round((r.cpuMs * 1000) / Math.max(1, s.completed))).padStart(11)} | ${String(Math.round((r.systemMs * 1000) / Math.max(1, s.completed))).padStart(6)} | ${r.busy.toFixed(2)} | ${r.loopDelayP99Ms.toFixed(2).padStart(11)} | ${r.loopDelayMaxMs.toFixed(2).padStart(11)} | ${r.gcMs.toFixed(0).padStart(5)} | ${r.gcMaxMs.toFixed(2).padStart(9)} | ${String(r.heapMb).padStart(7)} | ${(r.commits === 0 ? '' : (s.completed / r.commits).toFixed(2)).padStart(12)} | ${Object.entries(
            r.hops,
          )
            .map(
              ([hop, [n, p50, p99]]) =>
                `${hop} ${n} ${p50} ${p99}${Object.entries(r.hopFailures[hop] ?? {})
                  .map(([code, times]) => ` ${code} ${times}`)
                  .join('')}`,
            )
            .join('; ')}`,
        );
    if (declines.size > 0) console.log('declines:', Object.fromEntries(declines));
    const check = await ask(issuer.process, { ledger: true });
    console.log(
      JSON.stringify({
        bench: 'authorize',
        store: 'sqlite-wal-full-group-commit',
        hot,
        cards: CARDS,
        hotCards: HOT_CARDS,
        terminals: TERMINALS,
        responseCodes: Object.fromEntries(codes),
        declines: Object.fromEntries(declines),
        issuerLedger: check.ledger,
        steps,
      }),
    );
    await Promise.all(clients.map((c) => c.close()));
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1500));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
