/**
 * Pack + unpack cycles per second for a realistic 0200 (financial request from a contactless
 * EMV tap, field 55 with 15 data objects), with @amulet/iso8583 (both shipped specs) and with the
 * npm package iso_8583 as the peer, configured for the same fields. One core, one process.
 * Run with `npm run bench:iso8583`; prints a table and one JSON line.
 *
 * On a shared machine the load changes from second to second, so the cases are not measured one
 * after the other: in each round every case gets several short turns, the cases taking turns in
 * an order that rotates, and the ratio to the peer is taken within each round, so both sides of
 * a ratio ran in the same second or two. The figures printed are medians over the rounds, both
 * by the clock and by the CPU time of the process (`process.cpuUsage`, which load moves less).
 */
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fromHex, toHex } from '../packages/bytes/src/index.ts';
import {
  type FieldValue,
  type Iso8583Message,
  iso8583Ascii1987,
  iso8583Binary1987,
  type MessageSpec,
  pack,
  unpack,
} from '../packages/iso8583/src/index.ts';
import { decodeTlv, encodeTlv, type TlvNode } from '../packages/tlv/src/index.ts';

const ROUNDS = 15;
/** Each round gives every case TURNS_PER_ROUND turns of TURN_MS, the cases taking turns. */
const TURNS_PER_ROUND = 8;
const TURN_MS = 25;
const WARM_UP_CYCLES = 20_000;
const TARGET_CYCLES_PER_SECOND = 200_000;
const TARGET_TIMES_PEER = 20;

const icc: TlvNode[] = [
  ['9F26', '1F2E3D4C5B6A7988'], // application cryptogram
  ['9F27', '80'], // cryptogram information data
  ['9F10', '06010A03A0A000'], // issuer application data
  ['9F36', '0042'], // ATC
  ['9F37', 'A1B2C3D4'], // unpredictable number
  ['95', '0000008000'], // TVR
  ['9A', '250314'], // transaction date
  ['9C', '00'], // transaction type
  ['9F02', '000000001250'], // amount, authorised
  ['5F2A', '0978'], // transaction currency
  ['82', '1980'], // AIP
  ['9F1A', '0250'], // terminal country
  ['9F33', 'E0F8C8'], // terminal capabilities
  ['9F34', '1F0302'], // CVM results
  ['84', 'A0000000041010'], // DF name
].map(([tag, value]) => ({ tag: tag!, value: fromHex(value!) }));

const textFields: [number, string][] = [
  [2, '5413330089600010'], // a published EMV test card number, never a real card
  [3, '000000'],
  [4, '000000001250'],
  [7, '0314101530'],
  [11, '004217'],
  [12, '111530'],
  [13, '0314'],
  [14, '2712'],
  [22, '071'],
  [23, '001'],
  [25, '00'],
  [41, 'TERM0001'],
  [42, 'MERCHANT0000042'],
  [49, '978'],
];

const message: Iso8583Message = {
  mti: '0200',
  fields: new Map<number, FieldValue>([...textFields, [55, icc]]),
};

interface Case {
  readonly name: string;
  readonly bytes: number;
  readonly cycle: () => number;
}

interface Slice {
  cycles: number;
  wallMs: number;
  cpuMicroseconds: number;
}

/** Runs `cycle` in batches of 100 for about `ms` of wall-clock time, adding to `slice`. */
function runFor(ms: number, cycle: () => number, slice: Slice): void {
  let cycles = 0;
  let sink = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 100; i++) sink += cycle();
    cycles += 100;
    elapsed = performance.now() - start;
  }
  const cpu = process.cpuUsage(cpuStart);
  if (sink < 0) throw new Error('unreachable'); // keeps the results alive
  slice.cycles += cycles;
  slice.wallMs += elapsed;
  slice.cpuMicroseconds += cpu.user + cpu.system;
}

const cyclesPerSecond = (slice: Slice): number => (slice.cycles * 1000) / slice.wallMs;
const cpuPerCycle = (slice: Slice): number => slice.cpuMicroseconds / slice.cycles;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function amuletCycle(spec: MessageSpec): () => number {
  // Checks once that a cycle gives the message back, then measures.
  const bytes = pack(spec, message);
  const again = pack(spec, unpack(spec, bytes));
  if (toHex(again) !== toHex(bytes)) throw new Error(`${spec.name}: round trip differs`);
  return () => unpack(spec, pack(spec, message)).fields.size;
}

const Iso8583 = createRequire(import.meta.url)('iso_8583');
// The peer has no binary field 55 nor BCD: field 55 travels as hex text (ans...999), as its
// README shows, and the message is its default ASCII form with a 2-byte length header.
const peerData: Record<string, string> = { 0: message.mti, 55: toHex(encodeTlv(icc)) };
for (const [number, value] of textFields) peerData[number] = value;

function peerMessage() {
  return new Iso8583(peerData);
}

function peerCycle(): () => number {
  const data = peerData;
  const check = peerMessage().getBufferMessage();
  if (check.error !== undefined) throw new Error(`peer: ${check.error}`);
  const back = new Iso8583().getIsoJSON(check, {});
  if (back.error !== undefined || back[55] !== data[55]) throw new Error('peer: round trip differs');
  return () => {
    const packed = new Iso8583(data).getBufferMessage();
    return Object.keys(new Iso8583().getIsoJSON(packed, {})).length;
  };
}

// Where the time goes: the same message without field 55, and field 55's BER-TLV alone.
const withoutIcc: Iso8583Message = { mti: message.mti, fields: new Map(textFields) };
const iccBytes = encodeTlv(icc);

const cases: Case[] = [
  {
    name: 'amulet iso8583-1987-ascii',
    bytes: pack(iso8583Ascii1987, message).length,
    cycle: amuletCycle(iso8583Ascii1987),
  },
  {
    name: 'amulet iso8583-1987-binary',
    bytes: pack(iso8583Binary1987, message).length,
    cycle: amuletCycle(iso8583Binary1987),
  },
  { name: 'npm iso_8583 2.6.7 (peer)', bytes: peerMessage().getBufferMessage().length, cycle: peerCycle() },
  {
    name: 'amulet ascii, no field 55',
    bytes: pack(iso8583Ascii1987, withoutIcc).length,
    cycle: () => unpack(iso8583Ascii1987, pack(iso8583Ascii1987, withoutIcc)).fields.size,
  },
  {
    name: '@amulet/tlv field 55 only',
    bytes: iccBytes.length,
    cycle: () => decodeTlv(encodeTlv(icc)).length,
  },
];
const PEER = 2;

const loadBefore = loadavg()[0]!;
for (const { cycle } of cases) for (let i = 0; i < WARM_UP_CYCLES; i++) cycle();
const slices: Slice[][] = cases.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  const current = cases.map(() => ({ cycles: 0, wallMs: 0, cpuMicroseconds: 0 }));
  for (let turn = 0; turn < TURNS_PER_ROUND; turn++) {
    for (let k = 0; k < cases.length; k++) {
      const index = (k + turn + round) % cases.length;
      runFor(TURN_MS, cases[index]!.cycle, current[index]!);
    }
  }
  for (let index = 0; index < cases.length; index++) slices[index]!.push(current[index]!);
}
const loadAfter = loadavg()[0]!;

const results = cases.map((entry, index) => {
  const own = slices[index]!;
  const peer = slices[PEER]!;
  // Ratios within each round, so that both sides of a ratio saw about the same load.
  const wallRatios = own.map((slice, round) => cyclesPerSecond(slice) / cyclesPerSecond(peer[round]!));
  const cpuRatios = own.map((slice, round) => cpuPerCycle(peer[round]!) / cpuPerCycle(slice));
  const cpuMicrosecondsPerCycle = median(own.map(cpuPerCycle));
  return {
    name: entry.name,
    bytes: entry.bytes,
    cyclesPerSecond: Math.round(median(own.map(cyclesPerSecond))),
    cpuMicrosecondsPerCycle: Number(cpuMicrosecondsPerCycle.toFixed(2)),
    cyclesPerCpuSecond: Math.round(1e6 / cpuMicrosecondsPerCycle),
    timesPeer: Number(median(wallRatios).toFixed(1)),
    timesPeerMin: Number(Math.min(...wallRatios).toFixed(1)),
    timesPeerMax: Number(Math.max(...wallRatios).toFixed(1)),
    timesPeerByCpu: Number(median(cpuRatios).toFixed(1)),
  };
});

console.log(
  `ISO 8583 0200 with field 55 (15 EMV tags): pack + unpack cycles, one core; medians of ${ROUNDS} rounds, each case running ${TURNS_PER_ROUND} turns of ${TURN_MS} ms a round`,
);
console.log(
  'codec                        | bytes | cycles/s | CPU µs/cycle | cycles/CPU-s | x peer (min-max)  | x peer by CPU',
);
for (const result of results) {
  const range = `${result.timesPeer.toFixed(1)} (${result.timesPeerMin.toFixed(1)}-${result.timesPeerMax.toFixed(1)})`;
  console.log(
    `${result.name.padEnd(28)} | ${String(result.bytes).padStart(5)} | ${String(result.cyclesPerSecond).padStart(8)} | ${result.cpuMicrosecondsPerCycle.toFixed(2).padStart(12)} | ${String(result.cyclesPerCpuSecond).padStart(12)} | ${range.padEnd(17)} | ${result.timesPeerByCpu.toFixed(1).padStart(13)}`,
  );
}
console.log(`load average (1 min) ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after`);
// The targets of this codec (docs/iso8583.md, Performance), said plainly for each spec.
for (const result of results.slice(0, PEER)) {
  const said = (met: boolean): string => (met ? 'met' : 'NOT met');
  console.log(
    `${result.name}: ${TARGET_CYCLES_PER_SECOND} cycles/s ${said(result.cyclesPerSecond >= TARGET_CYCLES_PER_SECOND)} by the clock, ${said(result.cyclesPerCpuSecond >= TARGET_CYCLES_PER_SECOND)} by CPU time; ${TARGET_TIMES_PEER}x the peer ${said(result.timesPeer >= TARGET_TIMES_PEER)} by the clock, ${said(result.timesPeerByCpu >= TARGET_TIMES_PEER)} by CPU time`,
  );
}
console.log(
  JSON.stringify({
    bench: 'iso8583',
    node: process.version,
    rounds: ROUNDS,
    turnsPerRound: TURNS_PER_ROUND,
    turnMs: TURN_MS,
    loadAverage: [loadBefore, loadAfter],
    results,
  }),
);
