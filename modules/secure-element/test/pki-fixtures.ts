import { generateKeyPairSync, sign } from 'node:crypto';
import {
  createChainVerifier,
  issueCertificate,
  type ParsedCertificate,
  parseCertificate,
  type Signer,
  verifyCsr,
} from '@amulet/pki';
import { generatePrivateScalar, publicPoint, type SecureElement, spkiFromPoint } from '../src/index.ts';
import { seededRng } from './fixtures.ts';

/** A small root of trust for tests, built with @amulet/pki: root -> device CA -> devices. */
export const NOW = new Date('2026-11-23T12:00:00Z');
const DAY_MS = 86_400_000;

export interface TestCa {
  readonly signer: Signer;
  readonly der: Uint8Array;
  readonly parsed: ParsedCertificate;
}

function softwareSigner(): Signer {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  return {
    algorithm: 'ES256',
    publicKeySpki: () => spki,
    sign: async (data) => new Uint8Array(sign('sha256', data, { key: privateKey, dsaEncoding: 'der' })),
  };
}

let serial = 1;
const nextSerial = () => Uint8Array.of(0x20, (serial >> 8) & 0xff, serial++ & 0xff);

async function ca(kind: 'root' | 'device-ca' | 'service-ca', name: string, issuer?: TestCa): Promise<TestCa> {
  const signer = softwareSigner();
  const der = await issueCertificate(
    {
      profile:
        kind === 'root'
          ? { kind: 'root' }
          : kind === 'service-ca'
            ? { kind: 'service-ca' }
            : { kind: 'device-ca', tenantId: 'tenant-a' },
      subject: { organization: 'Amulet test', commonName: name },
      subjectPublicKeyInfo: signer.publicKeySpki(),
      serialNumber: nextSerial(),
      notBefore: new Date(NOW.getTime() - DAY_MS),
      notAfter: new Date(NOW.getTime() + 3650 * DAY_MS),
      ...(issuer === undefined ? {} : { issuer: issuer.parsed }),
    },
    issuer?.signer ?? signer,
  );
  return { signer, der, parsed: parseCertificate(der) };
}

export interface TestPki {
  readonly root: TestCa;
  readonly deviceCa: TestCa;
  readonly serviceCa: TestCa;
  /** Verifies a device chain (device certificate first) against this root at NOW. */
  readonly trusts: (chain: readonly Uint8Array[]) => boolean;
}

export async function testPki(): Promise<TestPki> {
  const root = await ca('root', 'Test root');
  const deviceCa = await ca('device-ca', 'Test device CA', root);
  const serviceCa = await ca('service-ca', 'Test service CA', root);
  const verifier = createChainVerifier({ trustAnchors: [root.der], tenantId: 'tenant-a' });
  return {
    root,
    deviceCa,
    serviceCa,
    trusts: (chain) =>
      verifier.verify({ chain, nowMs: NOW.getTime(), purpose: 'device', revocation: () => 'good' }).status ===
      'valid',
  };
}

/** Manufacture (DESIGN.md flow 1): key inside the SE, CSR to the device CA, chain stored. */
export async function manufacture(
  se: SecureElement,
  pki: TestPki,
  serialNumber = 'SN-0001',
): Promise<Uint8Array> {
  se.generateDeviceKey();
  const csr = verifyCsr(
    await se.certificationRequest({ organization: 'ACME', serialNumber, commonName: 'Band 2' }),
  );
  const der = await issueCertificate(
    {
      profile: {
        kind: 'device',
        attributes: { oemId: 'ACME', model: 'Band 2', seType: 'embedded', tenantId: 'tenant-a' },
      },
      subject: csr.subject,
      subjectPublicKeyInfo: csr.subjectPublicKeyInfo,
      serialNumber: nextSerial(),
      notBefore: new Date(NOW.getTime() - DAY_MS),
      notAfter: new Date(NOW.getTime() + 3650 * DAY_MS),
      issuer: pki.deviceCa.parsed,
    },
    pki.deviceCa.signer,
  );
  se.storeCertificates([der, pki.deviceCa.der]);
  return der;
}

/**
 * The token service's loader as an off-card entity for SCP11a: a P-256 key (as a scalar, which
 * the host session takes) and a service certificate with the given roles, then the service CA.
 */
export async function loader(
  pki: TestPki,
  roles: readonly ('tsp-loader' | 'tsp-encryption')[] = ['tsp-loader'],
): Promise<{ certificates: Uint8Array[]; privateKey: Uint8Array }> {
  const privateKey = generatePrivateScalar(seededRng(`loader-${serial}`));
  const der = await issueCertificate(
    {
      profile: { kind: 'service', roles, dnsNames: [] },
      subject: { organization: 'Amulet test', commonName: 'tsp-loader' },
      subjectPublicKeyInfo: spkiFromPoint(publicPoint(privateKey)),
      serialNumber: nextSerial(),
      notBefore: new Date(NOW.getTime() - DAY_MS),
      notAfter: new Date(NOW.getTime() + 365 * DAY_MS),
      issuer: pki.serviceCa.parsed,
    },
    pki.serviceCa.signer,
  );
  return { certificates: [der, pki.serviceCa.der], privateKey };
}
