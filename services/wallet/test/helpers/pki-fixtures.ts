import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import {
  attestationMessage,
  type DeviceAttributes,
  issueCertificate,
  type NameFields,
  type ParsedCertificate,
  parseCertificate,
  type Signer,
  toPem,
} from '@amulet/pki';

export const DAY_MS = 86_400_000;
export const T0 = new Date('2026-03-01T12:00:00Z');

export interface TestKey {
  readonly signer: Signer;
  readonly privateKey: KeyObject;
}

export function testKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  return {
    privateKey,
    signer: {
      algorithm: 'ES256',
      publicKeySpki: () => spki,
      sign: async (data) => new Uint8Array(sign('sha256', data, { key: privateKey, dsaEncoding: 'der' })),
    },
  };
}

let serialCounter = 1;
function serial(): Uint8Array {
  const n = serialCounter++;
  return Uint8Array.of(0x20, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

export interface TestCert {
  readonly key: TestKey;
  readonly der: Uint8Array;
  readonly parsed: ParsedCertificate;
}

async function issue(options: {
  profile: Parameters<typeof issueCertificate>[0]['profile'];
  subject: NameFields;
  issuer?: TestCert;
  notBefore?: Date;
  notAfter?: Date;
}): Promise<TestCert> {
  const key = testKey();
  const der = await issueCertificate(
    {
      profile: options.profile,
      subject: options.subject,
      subjectPublicKeyInfo: key.signer.publicKeySpki(),
      serialNumber: serial(),
      notBefore: options.notBefore ?? new Date(T0.getTime() - DAY_MS),
      notAfter: options.notAfter ?? new Date(T0.getTime() + 3650 * DAY_MS),
      ...(options.issuer === undefined ? {} : { issuer: options.issuer.parsed }),
    },
    options.issuer?.key.signer ?? key.signer,
  );
  return { key, der, parsed: parseCertificate(der) };
}

/** A root and one device CA per tenant name, as the root of trust's key ceremony makes them. */
export interface TestPki {
  readonly root: TestCert;
  deviceCa(pkiTenantId: string): Promise<TestCert>;
}

export async function testPki(): Promise<TestPki> {
  const root = await issue({
    profile: { kind: 'root' },
    subject: { organization: 'Amulet Test', commonName: 'Root' },
  });
  const cas = new Map<string, TestCert>();
  return {
    root,
    async deviceCa(pkiTenantId) {
      let ca = cas.get(pkiTenantId);
      if (ca === undefined) {
        ca = await issue({
          profile: { kind: 'device-ca', tenantId: pkiTenantId },
          subject: { organization: 'Amulet Test', commonName: `Device CA ${pkiTenantId}` },
          issuer: root,
        });
        cas.set(pkiTenantId, ca);
      }
      return ca;
    },
  };
}

/** A wearable's identity: its device certificate (key in "its secure element") and its CA. */
export interface TestDevice {
  readonly cert: TestCert;
  readonly ca: TestCert;
  readonly chainB64: string[];
  readonly serialHex: string;
  /** What the SE signs: the attestation message over the server's nonce and the context. */
  attest(nonce: Uint8Array, context: Uint8Array): Promise<Uint8Array>;
}

export async function testDevice(
  ca: TestCert,
  pkiTenantId: string,
  options: { notAfter?: Date; notBefore?: Date; serialNumber?: string } = {},
): Promise<TestDevice> {
  const attributes: DeviceAttributes = {
    oemId: 'ACME',
    model: 'Band 2',
    seType: 'embedded',
    tenantId: pkiTenantId,
  };
  const cert = await issue({
    profile: { kind: 'device', attributes },
    subject: {
      organization: 'ACME',
      serialNumber: options.serialNumber ?? `SN-${serialCounter}`,
      commonName: 'Band 2',
    },
    issuer: ca,
    ...(options.notAfter === undefined ? {} : { notAfter: options.notAfter }),
    ...(options.notBefore === undefined ? {} : { notBefore: options.notBefore }),
  });
  return {
    cert,
    ca,
    chainB64: [Buffer.from(cert.der).toString('base64'), Buffer.from(ca.der).toString('base64')],
    serialHex: cert.parsed.serialHex,
    attest: (nonce, context) => cert.key.signer.sign(attestationMessage(nonce, context)),
  };
}

export const pem = (cert: TestCert): string => toPem('CERTIFICATE', cert.der);

/** A deterministic random source from a seed (SHA-256 in counter mode), so a run replays. */
export function seededRandom(seed: string): (n: number) => Uint8Array {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let offset = 0; offset < n; offset += 32) {
      const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, n - offset)), offset);
    }
    return out;
  };
}
