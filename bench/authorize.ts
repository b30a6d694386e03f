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
 *
 * Cards are issued at the issuer, tokenized at the token service (JWE, device certificate, ID&V
 * green) and personalized with the ICC master key the token service's HSM derived (a TR-31 key
 * block opened on the SE side). `--hot 0.7` sends 70% of the traffic through the hot merchant's
 * terminal on cards that all draw on one account. `--profile` runs the named processes under
 * `node --cpu-prof` (profiles in --profile-dir, default a temporary directory). Prints a table and one JSON line.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AcquirerHost, AcquirerStore } from '@amulet/acquirer';
import type { Iso8583Message } from '@amulet/iso8583';
import { iso8583Codec as issuerCodec, listenIssuer } from '@amulet/issuer';
import { interchangeCodec, MessageLog, NetworkSwitch } from '@amulet/network';
import { loadRuleSet } from '@amulet/risk';
import { inProcessTransport, memoryBlobStore, memoryCounter, SecureElement } from '@amulet/secure-element';
import { authorizationRequest, defaultKernelConfig, readCard } from '@amulet/terminal';
import { startAuthorizationServer } from '@amulet/token-service';
import { createTcpTransport, type TcpEndpoint, type TransportClient } from '@amulet/transport';
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

const benchWorld = { now: () => new Date(), random: (n: number) => new Uint8Array(randomBytes(n)) };

/** The issuer process: its ISO 8583 port, and card issuance for the bench's cardholders over IPC. */
async function issuerRole(dir: string): Promise<void> {
  const side = await openIssuerSide({ backend: 'sqlite', world: benchWorld, issuerRules: benchRules, dir });
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
  const tsp = tcp.connect(tspEndpoint, options);
  const issuer = tcp.connect(issuerEndpoint, options);
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
  const client = tcp.connect(networkEndpoint, { maxInFlight: 4096, defaultTimeoutMs: 5000 });
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

const profiled = new Set((flag('profile') ?? '').split(',').filter((r) => r !== ''));
const profileDir = flag('profile-dir') ?? join(tmpdir(), 'amulet-bench-profiles');

function child(
  role: string,
  extra: string[],
): Promise<{ process: ChildProcess; message: Record<string, unknown> }> {
  const execArgv = [...process.execArgv];
  if (profiled.has(role)) {
    // One directory per role: tsx's loader thread writes a profile of its own next to the main one.
    mkdirSync(join(profileDir, role), { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${join(profileDir, role)}`);
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
async function prepare(
  cards: readonly ProvisionedCard[],
  count: number,
  hot: number,
): Promise<Iso8583Message[]> {
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
  const out: Iso8583Message[] = [];
  let seed = 0x9e3779b9;
  const random = () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  let cold = 0;
  let warm = 0;
  const date = `${String(now.getUTCFullYear() % 100).padStart(2, '0')}${String(now.getUTCMonth() + 1).padStart(2, '0')}${String(now.getUTCDate()).padStart(2, '0')}`;
  for (let n = 0; n < count; n++) {
    // Round robin within each group keeps one card's taps far apart, so their ATCs arrive in order.
    const isHot = random() < hot;
    const card = isHot ? CARDS + (warm++ % HOT_CARDS) : cold++ % CARDS;
    const terminal = isHot ? 0 : 1 + (n % (TERMINALS - 1));
    const un = new Uint8Array([n >>> 24, n >>> 16, n >>> 8, n]);
    const amount = 100 + (n % 4000);
    const read = await readCard(ses[card]!, { amount, unpredictableNumber: un, date }, defaultKernelConfig);
    if (read.kind !== 'online') throw new Error(`tap ${n} ended at the terminal: ${read.outcome.reason}`);
    stans[terminal] = (stans[terminal]! % 999_999) + 1;
    out.push(
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
async function send(
  clients: TransportClient<Iso8583Message>[],
  message: Iso8583Message,
): Promise<[number, boolean]> {
  const terminal = Number((message.fields.get(41) as string).slice(1));
  const started = performance.now();
  const answer = await clients[terminal]!.request(message, { timeoutMs: 10_000 });
  const code = String(answer.fields.get(39));
  codes.set(code, (codes.get(code) ?? 0) + 1);
  return [performance.now() - started, code === '00'];
}

/** Open loop: `rate` requests per second for `seconds`, sent in 2 ms slices whatever the answers do. */
async function openLoop(
  clients: TransportClient<Iso8583Message>[],
  queue: Iso8583Message[],
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
      const message = queue.shift();
      if (message === undefined) break;
      pending.push(
        send(clients, message).then(
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
  queue: Iso8583Message[],
  inFlight: number,
): Promise<Step> {
  const latencies: number[] = [];
  let approved = 0;
  const offered = queue.length;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let message = queue.shift(); message !== undefined; message = queue.shift()) {
        const [ms, ok] = await send(clients, message).catch(() => [Number.NaN, false] as [number, boolean]);
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
    const steps: Step[] = [];
    for (const rate of rates) steps.push(await openLoop(clients, queue, rate, seconds));
    steps.push(await closedLoop(clients, queue.splice(0, saturation), 128));
    console.log('step                    | offered | done   | approved | per s | p50 ms | p99 ms | p99.9 ms');
    for (const s of steps)
      console.log(
        `${s.label.padEnd(23)} | ${String(s.offered).padStart(7)} | ${String(s.completed).padStart(6)} | ${String(s.approved).padStart(8)} | ${String(s.perSecond).padStart(5)} | ${s.p50Ms.toFixed(2).padStart(6)} | ${s.p99Ms.toFixed(2).padStart(6)} | ${s.p999Ms.toFixed(2).padStart(8)}`,
      );
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
