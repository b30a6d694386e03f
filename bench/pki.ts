/**
 * The root of trust on one core (one thread; every operation below is synchronous crypto on the
 * main thread): device certificate issuance per second, attestation verifications per second
 * (chain + cached OCSP status + the device's signature over a fresh nonce), and raw ECDSA P-256
 * sign and verify rates measured in the same run. Target: attestation at least 50% of raw verify.
 * Run with `npm run bench:pki` (or `npx tsx bench/pki.ts [--recorded N]`); prints a table and one
 * JSON line. `--recorded N` has the CA record N certificates before it times the 300 recorded
 * issuances (default 0), to show what the CA's record costs as it grows.
 */
import { createPublicKey, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  type AttestationInput,
  attestationMessage,
  buildCsr,
  createAttestationVerifier,
  type DeviceAttributes,
  fromPem,
  issueCertificate,
  parseCertificate,
  type RevocationStatus,
  type Signer,
  verifyCsr,
} from '../packages/pki/src/index.ts';
import {
  CertificateAuthority,
  randomSerialNumber,
  runKeyCeremony,
  SoftwareKeystore,
  type SoftwareSigner,
} from '../services/root-of-trust/src/index.ts';

const SECONDS_PER_ROW = 2;
const PAIRED_SECONDS = 6;
const TARGET_RATIO = 0.5;
const DEVICES = 512;
const COLD_DEVICES = 3000;
const PERSISTED_ISSUANCES = 300;
const recordedFlag = process.argv.indexOf('--recorded');
const ALREADY_RECORDED = recordedFlag < 0 ? 0 : Number(process.argv[recordedFlag + 1]);
if (!Number.isSafeInteger(ALREADY_RECORDED) || ALREADY_RECORDED < 0) {
  console.error('--recorded takes a whole number of certificates');
  process.exit(2);
}
const DAY_MS = 86_400_000;

interface Row {
  readonly name: string;
  readonly perSecond: number;
  readonly note: string;
}

function report(name: string, count: number, elapsedMs: number, note: string): Row {
  const row = { name, perSecond: Math.round((count * 1000) / elapsedMs), note };
  console.error(`  ${row.name}: ${row.perSecond}/s`);
  return row;
}

/** Runs `operation` for SECONDS_PER_ROW after a short warm-up; awaits only when it returns a promise. */
async function measure(name: string, note: string, operation: (i: number) => unknown): Promise<Row> {
  const run = async (i: number) => {
    const result = operation(i);
    if (result instanceof Promise) await result;
  };
  const warmUpEnd = performance.now() + 300;
  for (let i = 0; performance.now() < warmUpEnd; i++) await run(i);
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < SECONDS_PER_ROW * 1000) {
    for (let j = 0; j < 64; j++) await run(count + j);
    count += 64;
    elapsed = performance.now() - start;
  }
  return report(name, count, elapsed, note);
}

function softwareDevice(): Signer & { signSync(data: Uint8Array): Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  const signSync = (data: Uint8Array) =>
    new Uint8Array(sign('sha256', data, { key: privateKey, dsaEncoding: 'der' }));
  return { algorithm: 'ES256', publicKeySpki: () => spki, sign: async (data) => signSync(data), signSync };
}

const dir = mkdtempSync(join(tmpdir(), 'amulet-bench-pki-'));
try {
  const masterKey = new Uint8Array(randomBytes(32));
  const now = new Date();
  await runKeyCeremony({ dir, masterKey, tenantId: 'acme', organization: 'Bench', rootCurve: 'P-256', now });
  const ca = CertificateAuthority.open({ dir, masterKey });
  const deviceCa = ca.certificate('device-ca');
  const root = parseCertificate(fromPem(readFileSync(join(dir, 'root.pem'), 'utf8'), 'CERTIFICATE'));
  // The device CA's signer, from the same keystore the CA uses (keys/device-ca.key.json).
  const caSigner = new SoftwareKeystore(join(dir, 'keys'), masterKey).load('device-ca') as SoftwareSigner;

  console.error('preparing devices...');
  const devices = await Promise.all(
    Array.from({ length: DEVICES + COLD_DEVICES }, async (_, i) => {
      const key = softwareDevice();
      const csr = await buildCsr(
        { organization: 'ACME', serialNumber: `SN-${String(i).padStart(6, '0')}`, commonName: 'Band 2' },
        key,
      );
      return { key, csr };
    }),
  );
  const attributes: DeviceAttributes = {
    oemId: 'ACME',
    model: 'Band 2',
    seType: 'embedded',
    tenantId: 'acme',
  };

  /** What the device CA does per device, without persistence: verify the CSR, build, sign. */
  const issueDevice = async (csrDer: Uint8Array) => {
    const csr = verifyCsr(csrDer);
    const at = new Date();
    return issueCertificate(
      {
        profile: { kind: 'device', attributes },
        subject: csr.subject,
        subjectPublicKeyInfo: csr.subjectPublicKeyInfo,
        serialNumber: randomSerialNumber(),
        notBefore: new Date(at.getTime() - 3_600_000),
        notAfter: new Date(at.getTime() + 3650 * DAY_MS),
        issuer: deviceCa,
      },
      caSigner,
    );
  };

  const rows: Row[] = [];
  console.error('measuring...');
  const message = attestationMessage(
    new Uint8Array(randomBytes(32)),
    new TextEncoder().encode('wallet:register'),
  );
  const rawKey = softwareDevice();
  const rawSignature = rawKey.signSync(message);
  rows.push(
    await measure('raw ECDSA P-256 sign', 'node:crypto, SHA-256, DER', () => rawKey.signSync(message)),
  );
  const rawVerifyKey = createPublicKey({
    key: Buffer.from(rawKey.publicKeySpki()),
    format: 'der',
    type: 'spki',
  });
  rows.push(
    await measure('device certificate issuance', 'CSR check + build + device CA signature', (i) =>
      issueDevice(devices[i % DEVICES]!.csr),
    ),
  );
  {
    for (let i = 0; i < ALREADY_RECORDED; i++)
      await ca.issue({ profile: 'device', csr: devices[i % DEVICES]!.csr });
    const start = performance.now();
    for (let i = 0; i < PERSISTED_ISSUANCES; i++) await ca.issue({ profile: 'device', csr: devices[i]!.csr });
    rows.push(
      report(
        'device issuance, CA recorded',
        PERSISTED_ISSUANCES,
        performance.now() - start,
        `CertificateAuthority.issue, one fsync'd journal line each (${PERSISTED_ISSUANCES} after ${ALREADY_RECORDED} recorded)`,
      ),
    );
  }

  // Attestation: each device has a certificate; the server holds cached OCSP answers and live nonces.
  const context = new TextEncoder().encode('wallet:register');
  const enrolled = await Promise.all(
    devices.map(async ({ key, csr }) => ({ key, der: await issueDevice(csr) })),
  );
  const ocspCache = new Map<string, RevocationStatus>();
  for (const { der } of enrolled) ocspCache.set(parseCertificate(der).serialHex, 'good');
  ocspCache.set(deviceCa.serialHex, 'good');
  const liveNonces = new Set<string>();
  const prepared: AttestationInput[] = enrolled.map(({ key, der }) => {
    const nonce = new Uint8Array(randomBytes(32));
    liveNonces.add(Buffer.from(nonce).toString('hex'));
    return {
      chain: [der, deviceCa.der],
      nonce,
      context,
      signature: key.signSync(attestationMessage(nonce, context)),
      nowMs: Date.now(),
      revocation: (serialHex) => ocspCache.get(serialHex) ?? 'unknown',
      consumeNonce: (n) => liveNonces.delete(Buffer.from(n).toString('hex')),
    };
  });
  const verifier = createAttestationVerifier({
    trustAnchors: [root.der],
    intermediates: [deviceCa.der],
    tenantId: 'acme',
  });
  let failures = 0;
  // Raw verify and attestation run interleaved in batches of 64 and each side sums only its own
  // time, so that load from other processes on a shared machine weighs on both alike.
  {
    const rawVerify = () =>
      verify('sha256', message, { key: rawVerifyKey, dsaEncoding: 'der' }, rawSignature);
    const attest = (i: number) => {
      const input = prepared[i % DEVICES]!;
      if (verifier.verify(input).status !== 'valid') failures++;
      // The server issues the device its next challenge (re-arms the nonce).
      liveNonces.add(Buffer.from(input.nonce).toString('hex'));
    };
    // The same verification over the 512 device keys and messages, without the verifier around it.
    const manyKeys = prepared.slice(0, DEVICES).map((input) => ({
      key: parseCertificate(input.chain[0]!).publicKey,
      message: attestationMessage(input.nonce, input.context),
      signature: input.signature,
    }));
    const rawVerifyMany = (i: number) => {
      const one = manyKeys[i % DEVICES]!;
      return verify('sha256', one.message, { key: one.key, dsaEncoding: 'der' }, one.signature);
    };
    for (let i = 0; i < 2000; i++) {
      rawVerify();
      rawVerifyMany(i);
      attest(i);
    }
    let rawMs = 0;
    let rawManyMs = 0;
    let attestMs = 0;
    let count = 0;
    const end = performance.now() + PAIRED_SECONDS * 1000;
    while (performance.now() < end) {
      const t0 = performance.now();
      for (let j = 0; j < 64; j++) rawVerify();
      const t1 = performance.now();
      for (let j = 0; j < 64; j++) attest(count + j);
      const t2 = performance.now();
      for (let j = 0; j < 64; j++) rawVerifyMany(count + j);
      rawManyMs += performance.now() - t2;
      attestMs += t2 - t1;
      rawMs += t1 - t0;
      count += 64;
    }
    rows.push(report('raw ECDSA P-256 verify', count, rawMs, 'node:crypto, SHA-256, DER'));
    rows.push(
      report('raw verify, 512 device keys', count, rawManyMs, "the same over the devices' keys and messages"),
    );
    rows.push(
      report(
        'attestation verification',
        count,
        attestMs,
        `${DEVICES} known devices: chain (cached) + OCSP status (cached) + nonce + signature`,
      ),
    );
  }
  {
    const start = performance.now();
    for (let i = DEVICES; i < DEVICES + COLD_DEVICES; i++) {
      if (verifier.verify(prepared[i]!).status !== 'valid') failures++;
    }
    rows.push(
      report(
        'attestation, first sight',
        COLD_DEVICES,
        performance.now() - start,
        `${COLD_DEVICES} devices never seen: + parse and verify the device certificate`,
      ),
    );
  }
  if (failures > 0) throw new Error(`${failures} attestations did not verify`);

  const rate = (name: string) => rows.find((r) => r.name === name)!.perSecond;
  const ratio = rate('attestation verification') / rate('raw ECDSA P-256 verify');
  const coldRatio = rate('attestation, first sight') / rate('raw ECDSA P-256 verify');
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(`${'operation'.padEnd(width)}  ${'per second'.padStart(10)}  what`);
  for (const row of rows) {
    console.log(`${row.name.padEnd(width)}  ${String(row.perSecond).padStart(10)}  ${row.note}`);
  }
  console.log(
    `attestation / raw verify = ${(ratio * 100).toFixed(1)}% (target ${TARGET_RATIO * 100}%: ${
      ratio >= TARGET_RATIO ? 'met' : 'MISSED'
    }); first sight = ${(coldRatio * 100).toFixed(1)}%`,
  );
  console.log(
    JSON.stringify({
      bench: 'pki',
      node: process.version,
      rates: Object.fromEntries(rows.map((r) => [r.name, r.perSecond])),
      attestationToRawVerify: Number(ratio.toFixed(3)),
      firstSightToRawVerify: Number(coldRatio.toFixed(3)),
      targetMet: ratio >= TARGET_RATIO,
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
