/**
 * The network switch alone, in one process: authorizations for a token through the switch to a
 * token service and an issuer that answer at once, over in-memory transports that still encode and
 * decode every message (so each side holds its own objects, as over TCP). What it measures is the
 * switch's own cost per authorization: CPU, and above all garbage collection, since the switch
 * keeps every authorization's route for its reversal (15 minutes by default) and its masked
 * message log in memory: what lives that long is promoted to the old generation, and each
 * collection of the young one copies it first.
 *
 * The token service and issuer here are scripted stand-ins (the switch may not import those
 * services); the real ones are behind it in bench/authorize.ts.
 *
 *   npx tsx bench/network.ts [--count 100000] [--in-flight 128] [--log 1000] [--routes N] [--rounds 3]
 *
 * `--log` is the message log's ring size (entries kept in memory), `--routes` the routes kept
 * for reversals (default the switch's own). First it times `toHex` (@amulet/bytes), which spells
 * field 55's data objects for the log, beside appending two digits per byte. Prints tables and
 * one JSON line.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { toHex } from '@amulet/bytes';
import { encodeTokenData, Field, interchangeSpec, responseTo } from '@amulet/contracts';
import { createMessage, type FieldValue, type Iso8583Message } from '@amulet/iso8583';
import type { TlvNode } from '@amulet/tlv';
import { createMemoryTransport } from '@amulet/transport';
import { interchangeCodec, MessageLog, NetworkSwitch, RoutingTable } from '../services/network/src/index.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  const value = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`--${name} takes a whole number`);
  return value;
};
const COUNT = option('count', 100_000);
const IN_FLIGHT = option('in-flight', 128);
const LOG_ENTRIES = option('log', 1000);
const ROUNDS = option('rounds', 3);
/** Routes kept for reversals (the switch's `maxRoutes`); default the switch's own (100 000). */
const MAX_ROUTES = args.includes('--routes') ? option('routes', 0) : undefined;

const EMPTY = new Uint8Array(0);
const REAL_PAN = '4012000000000016';
const DPAN_PREFIX = '476173900';
/** Fields every answer echoes (ISO 8583:1987 4.3). */
const echo = [2, 3, 4, 7, 11, 12, 13, 32, 37, 41, 42, 49];

/** Field 55 as a contactless kernel sends it (EMV Book 3 annex A tags; values of their lengths). */
function iccData(n: number): TlvNode[] {
  const bytes = (length: number, seed: number) =>
    Uint8Array.from({ length }, (_, i) => (seed * 31 + i * 7) & 0xff);
  return [
    { tag: '9F26', value: bytes(8, n) },
    { tag: '9F27', value: Uint8Array.of(0x80) },
    { tag: '9F10', value: bytes(18, n + 1) },
    { tag: '9F37', value: bytes(4, n + 2) },
    { tag: '9F36', value: Uint8Array.of((n >> 8) & 0xff, n & 0xff) },
    { tag: '95', value: new Uint8Array(5) },
    { tag: '9A', value: Uint8Array.of(0x26, 0x12, 0x04) },
    { tag: '9C', value: Uint8Array.of(0) },
    { tag: '9F02', value: Uint8Array.of(0, 0, 0, 0, 0x05, 0x00) },
    { tag: '5F2A', value: Uint8Array.of(0x09, 0x78) },
    { tag: '82', value: Uint8Array.of(0x19, 0x80) },
    { tag: '9F1A', value: Uint8Array.of(0x02, 0x50) },
    { tag: '9F03', value: new Uint8Array(6) },
    { tag: '9F33', value: Uint8Array.of(0xe0, 0x08, 0xc8) },
    { tag: '9F34', value: Uint8Array.of(0x1f, 0x03, 0x02) },
    { tag: '9F35', value: Uint8Array.of(0x22) },
    { tag: '84', value: Uint8Array.of(0xa0, 0, 0, 0, 0x03, 0x10, 0x10) },
  ];
}

/** One 0100 per authorization (its own STAN, RRN and terminal), encoded as the acquirer sends it. */
function requests(count: number, round: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const n = round * count + i;
    // Ten tokens in the token BIN range (the switch routes by BIN; it checks no check digit).
    const dpan = `${DPAN_PREFIX}010100${n % 10}`;
    const message = createMessage(
      interchangeSpec,
      '0100',
      new Map<number, FieldValue>([
        [Field.pan, dpan],
        [Field.processingCode, '000000'],
        [Field.amount, '500'],
        [Field.transmissionDateTime, '1204093000'],
        [Field.stan, String(n % 1_000_000).padStart(6, '0')],
        [Field.localTime, '093000'],
        [Field.localDate, '1204'],
        [Field.posEntryMode, '071'],
        [Field.acquiringInstitutionId, '123456'],
        [Field.retrievalReferenceNumber, String(n).padStart(12, '0')],
        [Field.terminalId, `T${String(Math.floor(n / 1_000_000)).padStart(7, '0')}`],
        [Field.merchantId, 'MERCHANT000001 '],
        [Field.currencyCode, '978'],
        [Field.iccData, iccData(n)],
      ]),
    );
    out.push(interchangeCodec.encode(message));
  }
  return out;
}

async function setup() {
  const t = createMemoryTransport<Iso8583Message>({ codec: interchangeCodec });
  let ids = 0;
  const servers = [
    await t.listen(
      {
        handler: (m) =>
          responseTo(m, echo, {
            [Field.pan]: REAL_PAN,
            [Field.expiry]: '3105',
            [Field.responseCode]: '00',
            [Field.additionalDataPrivate]: encodeTokenData([
              ['01', 'TREF0001'],
              ['02', 'V0010013817064213417100316473'],
            ]),
          }),
      },
      { name: 'tsp' },
    ),
    await t.listen(
      {
        handler: (m) =>
          responseTo(m, echo, {
            [Field.responseCode]: '00',
            [Field.authorizationIdResponse]: String(++ids % 1_000_000).padStart(6, '0'),
            [Field.iccData]: [{ tag: '91', value: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 0, 0) }],
          }),
      },
      { name: 'issuer' },
    ),
  ];
  const clients = [t.connect({ name: 'tsp' }), t.connect({ name: 'issuer' })];
  await Promise.all(clients.map((c) => c.connected()));
  const network = new NetworkSwitch({
    routes: new RoutingTable([
      { low: '476173900', high: '476173909', kind: 'token', destination: 'tsp' },
      { low: '401200', high: '401299', kind: 'issuer', destination: 'issuer' },
    ]),
    peers: new Map([
      ['tsp', clients[0]!],
      ['issuer', clients[1]!],
    ]),
    log: new MessageLog({ maxEntries: LOG_ENTRIES }),
    ...(MAX_ROUTES === undefined ? {} : { maxRoutes: MAX_ROUTES }),
  });
  return {
    network,
    close: async () => {
      network.close();
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}

interface Run {
  perSecond: number;
  cpuUs: number;
  gcMs: number;
  gcMaxMs: number;
  scavenges: number;
  majors: number;
  heapMb: number;
}

async function run(round: number): Promise<Run> {
  const { network, close } = await setup();
  const wire = requests(COUNT, round);
  const gcs: { kind: number; duration: number }[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      gcs.push({
        kind: (entry as unknown as { detail: { kind: number } }).detail.kind,
        duration: entry.duration,
      });
  });
  observer.observe({ entryTypes: ['gc'] });
  let next = 0;
  let approved = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < wire.length) {
        const bytes = wire[next]!;
        wire[next++] = EMPTY;
        const answer = await network.handle(interchangeCodec.decode(bytes));
        if (answer === undefined) throw new Error('no answer');
        if (answer.fields.get(Field.responseCode) === '00') approved++;
        interchangeCodec.encode(answer);
      }
    }),
  );
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await new Promise((r) => setTimeout(r, 50));
  observer.disconnect();
  if (approved !== COUNT) throw new Error(`${COUNT - approved} authorizations not approved`);
  const heap = process.memoryUsage().heapUsed;
  await close();
  // perf_hooks gc kinds: 1 minor (scavenge), 2 major (mark-compact), 4 incremental, 8 weak callbacks.
  return {
    perSecond: Math.round((COUNT / elapsed) * 1000),
    cpuUs: Math.round((used.user + used.system) / COUNT),
    gcMs: Math.round(gcs.reduce((sum, g) => sum + g.duration, 0)),
    gcMaxMs: Number(Math.max(0, ...gcs.map((g) => g.duration)).toFixed(1)),
    scavenges: gcs.filter((g) => g.kind === 1).length,
    majors: gcs.filter((g) => g.kind === 2).length,
    heapMb: Math.round(heap / 1e6),
  };
}

/** Nanoseconds per call, best of five passes over 1,000 inputs. */
function nsPerCall(spell: (bytes: Uint8Array) => string, inputs: readonly Uint8Array[]): number {
  let best = Number.POSITIVE_INFINITY;
  let sink = 0;
  for (let pass = 0; pass < 5; pass++) {
    const start = performance.now();
    for (let r = 0; r < 200; r++)
      for (const bytes of inputs) {
        const text = spell(bytes);
        sink += text.charCodeAt(text.length - 1); // read it, as its user would (flattens a cons string)
      }
    best = Math.min(best, ((performance.now() - start) * 1e6) / (200 * inputs.length));
  }
  if (sink < 0) console.log(sink);
  return Math.round(best);
}
const DIGITS = '0123456789ABCDEF';
const PAIRS = Array.from({ length: 256 }, (_, b) => DIGITS[b >> 4]! + DIGITS[b & 15]!);
/** The way toHex spelled bytes before: a new string per byte. */
const appended = (bytes: Uint8Array): string => {
  let text = '';
  for (let i = 0; i < bytes.length; i++) text += PAIRS[bytes[i]!]!;
  return text;
};
const hexRows = [2, 8, 18, 64, 300].map((length) => {
  const inputs = Array.from({ length: 1000 }, (_, k) =>
    Uint8Array.from({ length }, (_, i) => (i * 37 + k) & 0xff),
  );
  return { length, toHexNs: nsPerCall(toHex, inputs), appendedNs: nsPerCall(appended, inputs) };
});
console.log('toHex, bytes | ns per call | appending two digits per byte, ns');
for (const row of hexRows)
  console.log(`${String(row.length).padStart(12)} | ${String(row.toHexNs).padStart(11)} | ${row.appendedNs}`);
console.log('');

const runs: Run[] = [];
console.log(
  `network switch: ${COUNT} token authorizations per round, ${IN_FLIGHT} in flight, log ring ${LOG_ENTRIES}, ${ROUNDS} rounds`,
);
console.log('round | per s  | CPU µs | GC ms | GC max ms | scavenges | mark-compacts | heap MB after');
for (let round = 0; round < ROUNDS; round++) {
  const r = await run(round);
  runs.push(r);
  console.log(
    `${String(round + 1).padStart(5)} | ${String(r.perSecond).padStart(6)} | ${String(r.cpuUs).padStart(6)} | ${String(r.gcMs).padStart(5)} | ${String(r.gcMaxMs).padStart(9)} | ${String(r.scavenges).padStart(9)} | ${String(r.majors).padStart(13)} | ${r.heapMb}`,
  );
}
const median = (key: keyof Run) =>
  runs.map((r) => r[key]).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
console.log(
  JSON.stringify({
    bench: 'network',
    node: process.version,
    count: COUNT,
    inFlight: IN_FLIGHT,
    logEntries: LOG_ENTRIES,
    toHex: hexRows,
    median: {
      perSecond: median('perSecond'),
      cpuUs: median('cpuUs'),
      gcMs: median('gcMs'),
      gcMaxMs: median('gcMaxMs'),
      heapMb: median('heapMb'),
    },
    runs,
  }),
);
