/**
 * Authorizations end to end over loopback TCP: terminal-equivalent 0100s (field 55 from a real
 * secure element through the terminal's kernel, so every cryptogram verifies) go to the acquirer
 * (SQLite, WAL, synchronous=FULL, group commit), which forwards to the network switch, which asks
 * the token service to detokenize and validate, then the issuer. Each party runs in its own
 * process; this one is the terminals. Stepped open-loop rates, then a closed loop at saturation.
 *
 *   npx tsx bench/authorize.ts [--rates 250,500,1000,2000] [--seconds 2] [--hot 0.7]
 *                              [--tsp host:port --issuer host:port]
 *
 * The token service and issuer are the sandbox responders from @amulet/network/sandbox unless
 * `--tsp` and `--issuer` name other ISO 8583 endpoints (the real services): they must know the
 * bench's tokens (`benchTokens()` below: DPANs, real PANs and the sandbox keys).
 * `--hot 0.7` sends 70% of the traffic through one terminal on cards that all draw on one account.
 * Prints a table and one JSON line.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AcquirerHost, AcquirerStore } from '@amulet/acquirer';
import { fromHex } from '@amulet/bytes';
import { luhnCheckDigit } from '@amulet/emv';
import type { Iso8583Message } from '@amulet/iso8583';
import { interchangeCodec, MessageLog, NetworkSwitch, RoutingTable } from '@amulet/network';
import { SandboxIssuer, type SandboxToken, SandboxTokenService } from '@amulet/network/sandbox';
import { inProcessTransport, memoryBlobStore, memoryCounter, SecureElement } from '@amulet/secure-element';
import { authorizationRequest, defaultKernelConfig, readCard } from '@amulet/terminal';
import { createTcpTransport, type TcpEndpoint, type TransportClient } from '@amulet/transport';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const tcp = createTcpTransport<Iso8583Message>({ codec: interchangeCodec });
/** Cards with their own accounts, and cards that all draw on one hot account. */
const CARDS = 256;
const HOT_CARDS = 256;
const TERMINALS = 16;
const ACQUIRER_ID = '123456';

const keys = {
  18: { profile: 'qvsdc' as const, imk: fromHex('0123456789ABCDEFFEDCBA9876543210') },
  17: { profile: 'mchip' as const, imk: fromHex('89ABCDEF0123456776543210FEDCBA98') },
  22: { profile: 'qvsdc' as const, imk: fromHex('000102030405060708090A0B0C0D0E0F') },
};
const withLuhn = (digits: string) => digits + luhnCheckDigit(digits);

/** The bench's tokens: card i is CVN 18, 17 or 22 in turn, DPANs in token BINs, real PANs in issuer BINs. */
export function benchTokens(): SandboxToken[] {
  return Array.from({ length: CARDS + HOT_CARDS }, (_, i) => {
    const cvn = ([18, 17, 22] as const)[i % 3]!;
    const serial = String(i).padStart(6, '0');
    const [dpan, ownPan] =
      cvn === 17
        ? [withLuhn(`541333009${serial}`), withLuhn(`520000009${serial}`)]
        : [withLuhn(`476173909${serial}`), withLuhn(`401200009${serial}`)];
    // The hot cards are many cards (tokens) on one account: the issuer's hot spot.
    const realPan = i >= CARDS ? withLuhn('401200008999999') : ownPan;
    return {
      dpan,
      realPan,
      realExpiry: '3105',
      cvn,
      psn: '00',
      imk: keys[cvn].imk,
      tokenReference: `TREF${serial}`,
      par: `Q1J4AWSCC2BENCH${serial}ABCDEFGH`,
      requestorId: '40010030273',
      deviceId: `DEV${serial}`,
      status: 'active',
    };
  });
}

async function peers(): Promise<void> {
  const tsp = new SandboxTokenService(benchTokens());
  const issuer = new SandboxIssuer();
  for (const token of benchTokens()) issuer.open(token.realPan, 1_000_000_000_000);
  const a = await tcp.listen({ handler: tsp.handle, maxHandlersInFlight: 512 });
  const b = await tcp.listen({ handler: issuer.handle, maxHandlersInFlight: 512 });
  process.send?.({ tsp: a.endpoint.port, issuer: b.endpoint.port });
}

async function network(tspEndpoint: TcpEndpoint, issuerEndpoint: TcpEndpoint): Promise<void> {
  const options = { maxInFlight: 4096, defaultTimeoutMs: 5000 };
  const tsp = tcp.connect(tspEndpoint, options);
  const issuer = tcp.connect(issuerEndpoint, options);
  await Promise.all([tsp.connected(), issuer.connected()]);
  const sw = new NetworkSwitch({
    routes: new RoutingTable([
      { low: '476173900', high: '476173909', kind: 'token', destination: 'tsp' },
      { low: '541333000', high: '541333009', kind: 'token', destination: 'tsp' },
      { low: '401200', high: '401299', kind: 'issuer', destination: 'issuer' },
      { low: '520000', high: '529999', kind: 'issuer', destination: 'issuer' },
    ]),
    peers: new Map([
      ['tsp', tsp],
      ['issuer', issuer],
    ]),
    // The log is kept (masked) as in production, bounded in memory.
    log: new MessageLog({ maxEntries: 1000 }),
  });
  const server = await tcp.listen({ handler: sw.handle, maxHandlersInFlight: 1024 });
  process.send?.({ network: server.endpoint.port });
}

async function acquirer(networkEndpoint: TcpEndpoint, file: string): Promise<void> {
  const store = await AcquirerStore.open({ kind: 'sqlite', file });
  const client = tcp.connect(networkEndpoint, { maxInFlight: 4096, defaultTimeoutMs: 5000 });
  await client.connected();
  const host = await AcquirerHost.start({ store, network: client, acquiringInstitutionId: ACQUIRER_ID });
  await host.addMerchant({ merchantId: 'MERCHANT000001', nameLocation: 'AMULET BENCH', mcc: '5814' });
  for (let t = 0; t < TERMINALS; t++)
    await host.addTerminal({ terminalId: `T${String(t).padStart(7, '0')}`, merchantId: 'MERCHANT000001' });
  const server = await tcp.listen({ handler: host.handle, maxHandlersInFlight: 1024 });
  process.send?.({ acquirer: server.endpoint.port });
}

function child(
  role: string,
  extra: string[],
): Promise<{ process: ChildProcess; ports: Record<string, number> }> {
  const proc = fork(import.meta.filename, ['--role', role, ...extra], { execArgv: process.execArgv });
  return new Promise((resolve, reject) => {
    proc.once('message', (m) => resolve({ process: proc, ports: m as Record<string, number> }));
    proc.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
  });
}

const endpointOf = (text: string): TcpEndpoint => {
  const [host, port] = text.split(':');
  return { host: host ?? '127.0.0.1', port: Number(port) };
};

/** Taps made in advance through the kernel against real secure elements: valid cryptograms, rising ATCs. */
async function prepare(count: number, hot: number): Promise<Iso8583Message[]> {
  const tokens = benchTokens();
  const ses = tokens.map((token, i) => {
    const se = SecureElement.open({
      deviceKey: new Uint8Array(32).fill(1),
      rng: (n) => new Uint8Array(n).fill(i & 0xff),
      clock: () => 0,
      blobs: memoryBlobStore(),
      counter: memoryCounter(),
    });
    se.install({
      id: 'card',
      profile: keys[token.cvn].profile,
      cvn: token.cvn,
      label: 'BENCH',
      pan: token.dpan,
      expiry: '301231',
      psn: '00',
      imk: keys[token.cvn].imk,
    });
    return inProcessTransport(se);
  });
  const now = new Date(Date.UTC(2026, 11, 3, 9, 0, 0));
  const stans = new Array<number>(TERMINALS).fill(0);
  const out: Iso8583Message[] = [];
  let seed = 0x9e3779b9;
  const random = () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  let cold = 0;
  let warm = 0;
  for (let n = 0; n < count; n++) {
    // Round robin within each group keeps one card's taps far apart, so their ATCs arrive in order.
    const isHot = random() < hot;
    const card = isHot ? CARDS + (warm++ % HOT_CARDS) : cold++ % CARDS;
    const terminal = isHot ? 0 : hot > 0 ? 1 + (n % (TERMINALS - 1)) : n % TERMINALS;
    const un = new Uint8Array([n >>> 24, n >>> 16, n >>> 8, n]);
    const amount = 100 + (n % 4000);
    const read = await readCard(
      ses[card]!,
      { amount, unpredictableNumber: un, date: '261203' },
      defaultKernelConfig,
    );
    if (read.kind !== 'online') throw new Error(`tap ${n} ended at the terminal: ${read.outcome.reason}`);
    stans[terminal] = stans[terminal]! + 1;
    out.push(
      authorizationRequest(
        read.card,
        amount,
        String(stans[terminal]).padStart(6, '0'),
        now,
        {
          terminalId: `T${String(terminal).padStart(7, '0')}`,
          merchantId: 'MERCHANT000001',
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

async function send(
  clients: TransportClient<Iso8583Message>[],
  message: Iso8583Message,
): Promise<[number, boolean]> {
  const terminal = Number((message.fields.get(41) as string).slice(1));
  const started = performance.now();
  const answer = await clients[terminal]!.request(message, { timeoutMs: 10_000 });
  return [performance.now() - started, answer.fields.get(39) === '00'];
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
  if (role === 'peers') return peers();
  if (role === 'network') return network(endpointOf(flag('tsp')!), endpointOf(flag('issuer')!));
  if (role === 'acquirer') return acquirer(endpointOf(flag('network')!), flag('db')!);

  const rates = (flag('rates') ?? '250,500,1000,2000').split(',').map(Number);
  const seconds = Number(flag('seconds') ?? 2);
  const hot = Number(flag('hot') ?? 0);
  const saturation = Number(flag('saturation') ?? 4000);
  const children: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'amulet-bench-authorize-'));
  try {
    let tspAt = flag('tsp');
    let issuerAt = flag('issuer');
    if (tspAt === undefined || issuerAt === undefined) {
      const p = await child('peers', []);
      children.push(p.process);
      tspAt = `127.0.0.1:${p.ports.tsp}`;
      issuerAt = `127.0.0.1:${p.ports.issuer}`;
    }
    const n = await child('network', ['--tsp', tspAt, '--issuer', issuerAt]);
    children.push(n.process);
    const a = await child('acquirer', [
      '--network',
      `127.0.0.1:${n.ports.network}`,
      '--db',
      join(dir, 'acquirer.db'),
    ]);
    children.push(a.process);
    const total = rates.reduce((sum, r) => sum + r * seconds, 0) + saturation + 500;
    const prepareStart = performance.now();
    const queue = await prepare(total, hot);
    console.log(
      `prepared ${queue.length} taps in ${((performance.now() - prepareStart) / 1000).toFixed(1)} s`,
    );
    const clients = Array.from({ length: TERMINALS }, () =>
      tcp.connect({ host: '127.0.0.1', port: a.ports.acquirer! }, { maxInFlight: 4096 }),
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
    console.log(JSON.stringify({ bench: 'authorize', hot, cards: CARDS, terminals: TERMINALS, steps }));
    await Promise.all(clients.map((c) => c.close()));
  } finally {
    for (const c of children) c.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
