/**
 * Pack + unpack cycles per second for a realistic 0200 (financial request from a contactless
 * EMV tap, field 55 with 15 data objects), with @amulet/iso8583 (both shipped specs) and with the
 * npm package iso_8583 as the peer, configured for the same fields. One core, one process.
 * Run with `npm run bench:iso8583`; prints a table and one JSON line.
 */
import { createRequire } from 'node:module';
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

const SECONDS_PER_CASE = 3;

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
  [2, '5413330089600010'],
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

interface Result {
  readonly name: string;
  readonly bytes: number;
  readonly cyclesPerSecond: number;
}

function measure(name: string, bytes: number, cycle: () => number): Result {
  for (let i = 0; i < 20_000; i++) cycle(); // warm up
  let cycles = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < SECONDS_PER_CASE * 1000) {
    for (let i = 0; i < 1000; i++) cycle();
    cycles += 1000;
    elapsed = performance.now() - start;
  }
  return { name, bytes, cyclesPerSecond: Math.round((cycles * 1000) / elapsed) };
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

const results = [
  measure('amulet iso8583-1987-ascii', pack(iso8583Ascii1987, message).length, amuletCycle(iso8583Ascii1987)),
  measure(
    'amulet iso8583-1987-binary',
    pack(iso8583Binary1987, message).length,
    amuletCycle(iso8583Binary1987),
  ),
  measure('npm iso_8583 2.6.7 (peer)', peerMessage().getBufferMessage().length, peerCycle()),
  measure(
    'amulet ascii, no field 55',
    pack(iso8583Ascii1987, withoutIcc).length,
    () => unpack(iso8583Ascii1987, pack(iso8583Ascii1987, withoutIcc)).fields.size,
  ),
  measure('@amulet/tlv field 55 only', iccBytes.length, () => decodeTlv(encodeTlv(icc)).length),
];
const peer = results[2]!.cyclesPerSecond;

console.log('ISO 8583 0200 with field 55 (15 EMV tags): pack + unpack cycles per second, one core');
console.log('codec                        | bytes | cycles/s | x peer');
for (const result of results) {
  console.log(
    `${result.name.padEnd(28)} | ${String(result.bytes).padStart(5)} | ${String(result.cyclesPerSecond).padStart(8)} | ${(result.cyclesPerSecond / peer).toFixed(1).padStart(6)}`,
  );
}
console.log(
  JSON.stringify({
    bench: 'iso8583',
    node: process.version,
    secondsPerCase: SECONDS_PER_CASE,
    results: results.map((result) => ({
      ...result,
      timesPeer: Number((result.cyclesPerSecond / peer).toFixed(1)),
    })),
  }),
);
