/**
 * Application cryptogram verifications per second on one core: the reference path
 * (`verifyCryptogram`, on node:crypto) against the table-driven fast path
 * (`createCryptogramVerifier`), for Mastercard CVN 17 (triple DES, SKD), Visa CVN 18 (triple
 * DES) and Visa CVN 22 (AES). Each verification derives the ICC master key from the IMK, then
 * the session key, then the MAC, for a different PAN and ATC each time (1,024 inputs cycled).
 * Beside them, single-block rates: node:crypto with a reused context and with a new context per
 * call, and the table-driven ciphers with a precomputed schedule and with a new one per call.
 * Then AES-256 CMACs of a 10-byte message (the issuer's card lookup): one-shot `cmac`, and a key
 * prepared once with `createCmac`. Last, 14-byte random draws (an approval's identifiers): one
 * CSPRNG call each, and from @amulet/hsm's randomPool (one call per 4 KiB).
 * Run with `npm run bench:crypto`; prints a table and one JSON line.
 */
import { createCipheriv, randomBytes as csprngBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { randomPool } from '../modules/hsm/src/index.ts';
import {
  aes128EncryptBlock,
  aes128KeySchedule,
  createCryptogramVerifier,
  tripleDesEncryptBlock,
  tripleDesKeySchedule,
} from '../packages/emv/src/fast/index.ts';
import {
  type CryptogramInput,
  type CryptogramVersionNumber,
  cmac,
  computeCryptogram,
  createCmac,
  verifyCryptogram,
} from '../packages/emv/src/index.ts';

const SECONDS_PER_ROW = 2;
const TARGET_PER_SECOND = 200_000;
const INPUTS = 1024;

/** A deterministic generator (xorshift32), so every run measures the same inputs. */
let seed = 0x2545f491;
function nextByte(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed & 0xff;
}
const randomBytes = (length: number) => Uint8Array.from({ length }, nextByte);
const randomDigits = (length: number) => Array.from({ length }, () => String(nextByte() % 10)).join('');

/** A typical CDOL1 payload for an ARQC (amounts, country, TVR, currency, date, type, UN, AIP, ATC, CVR). */
const DATA_LENGTH = 37;

interface Row {
  readonly name: string;
  readonly perSecond: number;
}

function measure(name: string, operation: (i: number) => unknown): Row {
  const warmUpEnd = performance.now() + 300;
  for (let i = 0; performance.now() < warmUpEnd; i += 64) for (let j = 0; j < 64; j++) operation(i + j);
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < SECONDS_PER_ROW * 1000) {
    for (let j = 0; j < 256; j++) operation(count + j);
    count += 256;
    elapsed = performance.now() - start;
  }
  const row = { name, perSecond: Math.round((count * 1000) / elapsed) };
  console.error(`  ${row.name}: ${row.perSecond}/s`);
  return row;
}

type VerifyInput = CryptogramInput & { readonly cryptogram: Uint8Array };

function inputsFor(cvn: CryptogramVersionNumber, imk: Uint8Array): VerifyInput[] {
  return Array.from({ length: INPUTS }, () => {
    const base = {
      cvn,
      imk,
      pan: `5${randomDigits(15)}`,
      psn: randomDigits(2),
      atc: randomBytes(2),
      unpredictableNumber: randomBytes(4),
      data: randomBytes(DATA_LENGTH),
    };
    return { ...base, cryptogram: computeCryptogram(base) };
  });
}

const profiles = [
  { cvn: 17, label: 'CVN 17 (3DES, Mastercard SKD)' },
  { cvn: 18, label: 'CVN 18 (3DES, EMV CSK)' },
  { cvn: 22, label: 'CVN 22 (AES, EMV CSK)' },
] as const;

const verificationRows: { profile: string; reference: Row; fast: Row }[] = [];
for (const { cvn, label } of profiles) {
  const imk = randomBytes(16);
  const inputs = inputsFor(cvn, imk);
  const verifier = createCryptogramVerifier({ cvn, imk });
  for (const input of inputs) {
    if (!verifyCryptogram(input) || !verifier.verify(input)) throw new Error(`${label}: verification fails`);
  }
  let rejected = 0;
  const reference = measure(`reference ${label}`, (i) => {
    if (!verifyCryptogram(inputs[i & (INPUTS - 1)]!)) rejected++;
  });
  const fast = measure(`fast ${label}`, (i) => {
    if (!verifier.verify(inputs[i & (INPUTS - 1)]!)) rejected++;
  });
  if (rejected !== 0) throw new Error(`${label}: ${rejected} valid cryptograms rejected`);
  verificationRows.push({ profile: label, reference, fast });
}

// Single blocks: 1,024 keys and blocks cycled, so the new-key rows never reuse a key.
const aesKeys = Array.from({ length: INPUTS }, () => randomBytes(16));
const tdesKeys = Array.from({ length: INPUTS }, () => randomBytes(16));
const blocks16 = Array.from({ length: INPUTS }, () => randomBytes(16));
const blocks8 = Array.from({ length: INPUTS }, () => randomBytes(8));
const out16 = new Uint8Array(16);
const out8 = new Uint8Array(8);
const tdesKey24 = (key: Uint8Array) => {
  const full = new Uint8Array(24);
  full.set(key, 0);
  full.set(key.subarray(0, 8), 16);
  return full;
};
const tdesKeys24 = tdesKeys.map(tdesKey24);

const aesContext = createCipheriv('aes-128-ecb', aesKeys[0]!, null).setAutoPadding(false);
const tdesContext = createCipheriv('des-ede3-ecb', tdesKeys24[0]!, null).setAutoPadding(false);
const aesSchedule = aes128KeySchedule(aesKeys[0]!);
const tdesSchedule = tripleDesKeySchedule(tdesKeys[0]!);

function newContextBlock(name: string, key: Uint8Array, block: Uint8Array): number {
  const context = createCipheriv(name, key, null).setAutoPadding(false);
  return context.update(block).length + context.final().length;
}

const blockRows: Row[] = [
  measure('node:crypto AES-128-ECB, reused context', (i) => aesContext.update(blocks16[i & (INPUTS - 1)]!)),
  measure('node:crypto AES-128-ECB, new context', (i) =>
    newContextBlock('aes-128-ecb', aesKeys[i & (INPUTS - 1)]!, blocks16[i & (INPUTS - 1)]!),
  ),
  measure('fast AES-128, precomputed schedule', (i) =>
    aes128EncryptBlock(aesSchedule, blocks16[i & (INPUTS - 1)]!, out16),
  ),
  measure('fast AES-128, new schedule', (i) =>
    aes128EncryptBlock(aes128KeySchedule(aesKeys[i & (INPUTS - 1)]!), blocks16[i & (INPUTS - 1)]!, out16),
  ),
  measure('node:crypto 3DES-ECB, reused context', (i) => tdesContext.update(blocks8[i & (INPUTS - 1)]!)),
  measure('node:crypto 3DES-ECB, new context', (i) =>
    newContextBlock('des-ede3-ecb', tdesKeys24[i & (INPUTS - 1)]!, blocks8[i & (INPUTS - 1)]!),
  ),
  measure('fast 3DES, precomputed schedule', (i) =>
    tripleDesEncryptBlock(tdesSchedule, blocks8[i & (INPUTS - 1)]!, out8),
  ),
  measure('fast 3DES, new schedule', (i) =>
    tripleDesEncryptBlock(
      tripleDesKeySchedule(tdesKeys[i & (INPUTS - 1)]!),
      blocks8[i & (INPUTS - 1)]!,
      out8,
    ),
  ),
];

const macKey = randomBytes(32);
const preparedMac = createCmac('aes', macKey);
const macRows: Row[] = [
  measure('AES-256 CMAC of 10 bytes, one-shot', (i) =>
    cmac('aes', macKey, blocks16[i & (INPUTS - 1)]!.subarray(0, 10)),
  ),
  measure('AES-256 CMAC of 10 bytes, prepared key', (i) =>
    preparedMac(blocks16[i & (INPUTS - 1)]!.subarray(0, 10)),
  ),
];

const pool = randomPool();
const randomRows: Row[] = [
  measure('random 14 bytes, one CSPRNG call each', () => new Uint8Array(csprngBytes(14))),
  measure('random 14 bytes, from randomPool', () => pool(14)),
];

const pad = (text: string | number, width: number) => String(text).padStart(width);
console.log(
  `Full cryptogram verifications per second, one core (IMK -> ICC MK -> session key -> MAC -> compare), ${DATA_LENGTH}-byte data`,
);
console.log('profile                        | reference/s |    fast/s | x ref | target 200,000/s');
for (const row of verificationRows) {
  const met = row.fast.perSecond >= TARGET_PER_SECOND ? 'met' : 'NOT met';
  console.log(
    `${row.profile.padEnd(30)} | ${pad(row.reference.perSecond, 11)} | ${pad(row.fast.perSecond, 9)} | ${pad((row.fast.perSecond / row.reference.perSecond).toFixed(1), 5)} | ${met} (fast path)`,
  );
}
console.log('');
console.log('single block                             |  blocks/s');
for (const row of blockRows) console.log(`${row.name.padEnd(40)} | ${pad(row.perSecond, 9)}`);
console.log('');
console.log('MAC                                      |     MACs/s');
for (const row of macRows) console.log(`${row.name.padEnd(40)} | ${pad(row.perSecond, 9)}`);
console.log('');
console.log('random draw                              |   draws/s');
for (const row of randomRows) console.log(`${row.name.padEnd(40)} | ${pad(row.perSecond, 9)}`);
console.log(
  JSON.stringify({
    bench: 'crypto',
    node: process.version,
    secondsPerRow: SECONDS_PER_ROW,
    dataLength: DATA_LENGTH,
    targetPerSecond: TARGET_PER_SECOND,
    verifications: verificationRows.map((row) => ({
      profile: row.profile,
      referencePerSecond: row.reference.perSecond,
      fastPerSecond: row.fast.perSecond,
      timesReference: Number((row.fast.perSecond / row.reference.perSecond).toFixed(1)),
      targetMet: row.fast.perSecond >= TARGET_PER_SECOND,
    })),
    blocks: blockRows.map((row) => ({ name: row.name, perSecond: row.perSecond })),
    macs: macRows.map((row) => ({ name: row.name, perSecond: row.perSecond })),
    randomDraws: randomRows.map((row) => ({ name: row.name, perSecond: row.perSecond })),
  }),
);
