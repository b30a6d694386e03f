import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import {
  type CertificateProfile,
  type DeviceAttributes,
  issueCertificate,
  type NameFields,
  type ParsedCertificate,
  parseCertificate,
  type Signer,
} from '../../src/index.ts';

/** A software signer for tests: a fresh key pair whose private half stays in this object. */
export interface TestKey {
  readonly signer: Signer;
  readonly privateKey: KeyObject;
}

export function testKey(curve: 'P-256' | 'P-384' = 'P-256'): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  const digest = curve === 'P-256' ? 'sha256' : 'sha384';
  return {
    privateKey,
    signer: {
      algorithm: curve === 'P-256' ? 'ES256' : 'ES384',
      publicKeySpki: () => spki,
      sign: async (data) => new Uint8Array(sign(digest, data, { key: privateKey, dsaEncoding: 'der' })),
    },
  };
}

export const DAY_MS = 86_400_000;
export const NOW = new Date('2026-03-01T12:00:00Z');

let nextSerial = 1;
export function serial(): Uint8Array {
  const n = nextSerial++;
  return Uint8Array.of(0x10, (n >> 8) & 0xff, n & 0xff);
}

export interface TestCa {
  readonly key: TestKey;
  readonly der: Uint8Array;
  readonly parsed: ParsedCertificate;
}

export interface IssueOptions {
  readonly profile: CertificateProfile;
  readonly subject: NameFields;
  readonly issuer?: TestCa;
  readonly key?: TestKey;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** The signer actually used (to forge); the issuer's key by default. */
  readonly signer?: Signer;
}

export async function issue(options: IssueOptions): Promise<TestCa> {
  const key = options.key ?? testKey();
  const der = await issueCertificate(
    {
      profile: options.profile,
      subject: options.subject,
      subjectPublicKeyInfo: key.signer.publicKeySpki(),
      serialNumber: serial(),
      notBefore: options.notBefore ?? new Date(NOW.getTime() - DAY_MS),
      notAfter: options.notAfter ?? new Date(NOW.getTime() + 365 * DAY_MS),
      ...(options.issuer === undefined ? {} : { issuer: options.issuer.parsed }),
    },
    options.signer ?? options.issuer?.key.signer ?? key.signer,
  );
  return { key, der, parsed: parseCertificate(der) };
}

export const ATTRIBUTES_A: DeviceAttributes = {
  oemId: 'ACME',
  model: 'Band 2',
  seType: 'embedded',
  tenantId: 'tenant-a',
};

export interface TestHierarchy {
  readonly root: TestCa;
  readonly deviceCaA: TestCa;
  readonly deviceCaB: TestCa;
  readonly serviceCa: TestCa;
  readonly device: TestCa;
}

/** Root -> device CA (tenant A), device CA (tenant B), service CA; one device under tenant A. */
export async function testHierarchy(): Promise<TestHierarchy> {
  const root = await issue({
    profile: { kind: 'root' },
    subject: { organization: 'Amulet Test', commonName: 'Amulet Test Root' },
  });
  const deviceCaA = await issue({
    profile: { kind: 'device-ca', tenantId: 'tenant-a' },
    subject: { organization: 'Amulet Test', commonName: 'Device CA tenant-a' },
    issuer: root,
  });
  const deviceCaB = await issue({
    profile: { kind: 'device-ca', tenantId: 'tenant-b' },
    subject: { organization: 'Amulet Test', commonName: 'Device CA tenant-b' },
    issuer: root,
  });
  const serviceCa = await issue({
    profile: { kind: 'service-ca' },
    subject: { organization: 'Amulet Test', commonName: 'Service CA' },
    issuer: root,
  });
  const device = await issue({
    profile: { kind: 'device', attributes: ATTRIBUTES_A },
    subject: { organization: 'ACME', serialNumber: 'SN-0001', commonName: 'Band 2' },
    issuer: deviceCaA,
  });
  return { root, deviceCaA, deviceCaB, serviceCa, device };
}
