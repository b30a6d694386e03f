/**
 * A complete in-process contactless transaction against @amulet/secure-element, per profile:
 * SELECT PPSE, SELECT AID, GET PROCESSING OPTIONS (and for M/Chip READ RECORD and GENERATE AC),
 * up to the cryptogram, each state change sealed (AES-256-GCM) into in-memory storage as the SE
 * does on a device. Reports the median and p99 per tap; the target is a 2 ms median.
 * Then the personalization of one card over SCP11b, host and card in one process: SELECT ISD,
 * GET DATA of the certificate store (chain checked with @amulet/pki), INTERNAL AUTHENTICATE,
 * GET STATUS, INSTALL x2, STORE DATA, and the confirmation's signature checked; target 50 ms.
 * Run with `npm run bench:secure-element`; prints a table and one JSON line.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  deleteScript,
  loadSandboxCards,
  personalizationScript,
  Scp11HostSession,
  SecureElement,
  sandboxCards,
  tap,
  verifyConfirmation,
} from '../modules/secure-element/src/index.ts';
import { deriveIccMasterKey } from '../packages/emv/src/index.ts';
import {
  createChainVerifier,
  issueCertificate,
  parseCertificate,
  type Signer,
  verifyCsr,
} from '../packages/pki/src/index.ts';

const WARMUP = 300;
const TAPS = 3000;
const TARGET_MEDIAN_MS = 2;

let counter = 0;
const rng = (n: number) => {
  const out = new Uint8Array(n);
  for (let filled = 0; filled < n; filled += 32) {
    out.set(
      createHash('sha256')
        .update(`bench:${counter++}`)
        .digest()
        .subarray(0, Math.min(32, n - filled)),
      filled,
    );
  }
  return out;
};

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function measure(aid: string): Promise<{ median: number; p99: number }> {
  const se = SecureElement.open({
    deviceKey: new Uint8Array(32).fill(7),
    rng,
    clock: () => performance.now(),
  });
  loadSandboxCards(se);
  const times: number[] = [];
  for (let i = 0; i < WARMUP + TAPS; i++) {
    const un = rng(4);
    const start = performance.now();
    await tap((apdu) => se.transmit(apdu), { amount: 1000 + (i % 100), unpredictableNumber: un, aid });
    const elapsed = performance.now() - start;
    if (i >= WARMUP) times.push(elapsed);
  }
  times.sort((a, b) => a - b);
  return { median: quantile(times, 0.5), p99: quantile(times, 0.99) };
}

const profiles = [
  { name: 'qVSDC CVN 18 (3DES)', aid: 'A0000000031010' },
  { name: 'qVSDC CVN 22 (AES)', aid: 'A000000003101001' },
  { name: 'M/Chip CVN 17 (3DES)', aid: 'A0000000041010' },
];
const results: Record<string, { median: number; p99: number }> = {};
console.log(`${'profile'.padEnd(24)} ${'median ms'.padStart(10)} ${'p99 ms'.padStart(10)}`);
for (const profile of profiles) {
  const r = await measure(profile.aid);
  results[profile.name] = r;
  console.log(
    `${profile.name.padEnd(24)} ${r.median.toFixed(3).padStart(10)} ${r.p99.toFixed(3).padStart(10)}`,
  );
}

// ---- Personalization over SCP11b ----
const PERSO_WARMUP = 20;
const PERSONALIZATIONS = 300;
const TARGET_PERSO_MEDIAN_MS = 50;

function softwareSigner(): Signer {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  return {
    algorithm: 'ES256',
    publicKeySpki: () => spki,
    sign: async (data) => new Uint8Array(sign('sha256', data, { key: privateKey, dsaEncoding: 'der' })),
  };
}

async function measurePersonalization(): Promise<{ median: number; p99: number }> {
  const now = new Date('2026-11-23T12:00:00Z');
  const window = {
    notBefore: new Date(now.getTime() - 86_400_000),
    notAfter: new Date(now.getTime() + 86_400_000),
  };
  const rootSigner = softwareSigner();
  const rootDer = await issueCertificate(
    {
      profile: { kind: 'root' },
      subject: { commonName: 'Bench root' },
      subjectPublicKeyInfo: rootSigner.publicKeySpki(),
      serialNumber: Uint8Array.of(1),
      ...window,
    },
    rootSigner,
  );
  const caSigner = softwareSigner();
  const caDer = await issueCertificate(
    {
      profile: { kind: 'device-ca', tenantId: 'bench' },
      subject: { commonName: 'Bench device CA' },
      subjectPublicKeyInfo: caSigner.publicKeySpki(),
      serialNumber: Uint8Array.of(2),
      issuer: parseCertificate(rootDer),
      ...window,
    },
    rootSigner,
  );
  const se = SecureElement.open({
    deviceKey: new Uint8Array(32).fill(9),
    rng,
    clock: () => performance.now(),
  });
  se.generateDeviceKey();
  const csr = verifyCsr(
    await se.certificationRequest({ organization: 'Bench', serialNumber: 'SN-1', commonName: 'Band' }),
  );
  const leaf = await issueCertificate(
    {
      profile: {
        kind: 'device',
        attributes: { oemId: 'Bench', model: 'Band', seType: 'embedded', tenantId: 'bench' },
      },
      subject: csr.subject,
      subjectPublicKeyInfo: csr.subjectPublicKeyInfo,
      serialNumber: Uint8Array.of(3),
      issuer: parseCertificate(caDer),
      ...window,
    },
    caSigner,
  );
  se.storeCertificates([leaf, caDer]);
  const verifier = createChainVerifier({ trustAnchors: [rootDer], tenantId: 'bench' });
  const trusts = (chain: readonly Uint8Array[]) =>
    verifier.verify({ chain, nowMs: now.getTime(), purpose: 'device', revocation: () => 'good' }).status ===
    'valid';
  const base = sandboxCards[0];
  if (base === undefined) throw new Error('no sandbox card');
  const mkAc = deriveIccMasterKey({ imk: base.imk, pan: base.pan, psn: base.psn });
  const times: number[] = [];
  for (let i = 0; i < PERSO_WARMUP + PERSONALIZATIONS; i++) {
    const id = `bench-${i}`;
    const start = performance.now();
    const session = await Scp11HostSession.open({
      transmit: async (a) => se.transmit(a),
      rng,
      verifyCardCertificates: trusts,
    });
    const outcome = await personalizationScript(session, { ...base, id, mkAc });
    const verdict = verifyConfirmation({
      confirmation: outcome.confirmation,
      cardPublicKey: session.cardPublicKey,
      receipt: session.receipt,
      tokenId: id,
    });
    const elapsed = performance.now() - start;
    if (verdict.status !== 'valid') throw new Error('the confirmation did not verify');
    await deleteScript(session, outcome.aid);
    if (i >= PERSO_WARMUP) times.push(elapsed);
  }
  times.sort((a, b) => a - b);
  return { median: quantile(times, 0.5), p99: quantile(times, 0.99) };
}

const personalization = await measurePersonalization();
console.log(
  `${'personalize over SCP11b'.padEnd(24)} ${personalization.median.toFixed(3).padStart(10)} ${personalization.p99.toFixed(3).padStart(10)}`,
);
const pass =
  Object.values(results).every((r) => r.median < TARGET_MEDIAN_MS) &&
  personalization.median < TARGET_PERSO_MEDIAN_MS;
console.log(
  JSON.stringify({
    bench: 'secure-element',
    taps: TAPS,
    targetMedianMs: TARGET_MEDIAN_MS,
    personalizations: PERSONALIZATIONS,
    targetPersonalizationMedianMs: TARGET_PERSO_MEDIAN_MS,
    pass,
    results: { ...results, 'personalize over SCP11b': personalization },
  }),
);
