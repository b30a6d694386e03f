import { beforeAll, describe, expect, it } from 'vitest';
import {
  type ChainCheck,
  type ChainFailure,
  type ChainPurpose,
  createChainVerifier,
  type RevocationLookup,
} from '../src/index.ts';
import {
  ATTRIBUTES_A,
  DAY_MS,
  issue,
  NOW,
  type TestCa,
  type TestHierarchy,
  testHierarchy,
  testKey,
} from './helpers/test-hierarchy.ts';

let h: TestHierarchy;
let other: TestHierarchy;
let service: TestCa;
beforeAll(async () => {
  h = await testHierarchy();
  other = await testHierarchy();
  service = await issue({
    profile: { kind: 'service', roles: ['tsp-loader'], dnsNames: ['tsp.example'] },
    subject: { organization: 'Amulet Test', commonName: 'tsp' },
    issuer: h.serviceCa,
  });
});

interface Case {
  readonly chain: readonly TestCa[];
  readonly purpose?: ChainPurpose;
  readonly tenantId?: string;
  readonly nowMs?: number;
  readonly revocation?: RevocationLookup;
}

function check(c: Case): ChainFailure | 'valid' {
  const verifier = createChainVerifier({
    trustAnchors: [h.root.der],
    ...(c.tenantId === undefined ? {} : { tenantId: c.tenantId }),
  });
  const input: ChainCheck = {
    chain: c.chain.map((cert) => cert.der),
    nowMs: c.nowMs ?? NOW.getTime(),
    purpose: c.purpose ?? 'device',
    revocation: c.revocation ?? (() => 'good'),
  };
  const result = verifier.verify(input);
  return result.status === 'valid' ? 'valid' : result.reason;
}

describe('chain verification: each failure with its reason', () => {
  it('accepts a device chain and a service chain for their purposes', () => {
    expect(check({ chain: [h.device, h.deviceCaA], tenantId: 'tenant-a' })).toBe('valid');
    expect(check({ chain: [h.device, h.deviceCaA] })).toBe('valid');
    expect(check({ chain: [service, h.serviceCa], purpose: 'service' })).toBe('valid');
  });

  it('expired: the device, or its CA, past notAfter; the bound itself is still valid', async () => {
    expect(check({ chain: [h.device, h.deviceCaA], nowMs: h.device.parsed.notAfterMs + 1000 })).toBe(
      'expired',
    );
    expect(check({ chain: [h.device, h.deviceCaA], nowMs: h.device.parsed.notAfterMs })).toBe('valid');
    const shortCa = await issue({
      profile: { kind: 'device-ca', tenantId: 'tenant-a' },
      subject: { commonName: 'Short CA' },
      issuer: h.root,
      notAfter: new Date(NOW.getTime() + DAY_MS),
    });
    const device = await issue({
      profile: { kind: 'device', attributes: ATTRIBUTES_A },
      subject: { serialNumber: 'SN-S' },
      issuer: shortCa,
    });
    expect(check({ chain: [device, shortCa], nowMs: NOW.getTime() + 2 * DAY_MS })).toBe('expired');
  });

  it('not yet valid: before the device notBefore', () => {
    expect(check({ chain: [h.device, h.deviceCaA], nowMs: h.device.parsed.notBeforeMs - 1000 })).toBe(
      'not-yet-valid',
    );
  });

  it('revoked: the device, or its CA', () => {
    const deviceSerial = h.device.parsed.serialHex;
    const caSerial = h.deviceCaA.parsed.serialHex;
    expect(
      check({ chain: [h.device, h.deviceCaA], revocation: (s) => (s === deviceSerial ? 'revoked' : 'good') }),
    ).toBe('revoked');
    expect(
      check({ chain: [h.device, h.deviceCaA], revocation: (s) => (s === caSerial ? 'revoked' : 'good') }),
    ).toBe('revoked');
  });

  it('wrong CA: a chain under another root is unknown-ca', () => {
    expect(check({ chain: [other.device, other.deviceCaA] })).toBe('unknown-ca');
    expect(check({ chain: [h.device, other.deviceCaA] })).toBe('unknown-ca');
  });

  it('wrong CA: a device certificate from the service CA, or a service certificate from a device CA', async () => {
    const deviceFromServiceCa = await issue({
      profile: { kind: 'device', attributes: ATTRIBUTES_A },
      subject: { serialNumber: 'SN-W' },
      issuer: h.serviceCa,
    });
    expect(check({ chain: [deviceFromServiceCa, h.serviceCa] })).toBe('wrong-key-usage');
    expect(check({ chain: [deviceFromServiceCa, h.serviceCa], tenantId: 'tenant-a' })).toBe('wrong-tenant');
    const serviceFromDeviceCa = await issue({
      profile: { kind: 'service', roles: [], dnsNames: [] },
      subject: { commonName: 'svc' },
      issuer: h.deviceCaA,
    });
    expect(check({ chain: [serviceFromDeviceCa, h.deviceCaA], purpose: 'service' })).toBe('wrong-key-usage');
  });

  it('wrong extended key usage: a device certificate as a service and a service certificate as a device', () => {
    expect(check({ chain: [h.device, h.deviceCaA], purpose: 'service' })).toBe('wrong-key-usage');
    expect(check({ chain: [service, h.serviceCa], purpose: 'device' })).toBe('wrong-key-usage');
  });

  it("another tenant's CA: wrong-tenant, even when the device claims this tenant", async () => {
    const claimsA = await issue({
      profile: { kind: 'device', attributes: ATTRIBUTES_A },
      subject: { serialNumber: 'SN-B' },
      issuer: h.deviceCaB,
    });
    expect(check({ chain: [claimsA, h.deviceCaB], tenantId: 'tenant-a' })).toBe('wrong-tenant');
    expect(check({ chain: [h.device, h.deviceCaA], tenantId: 'tenant-b' })).toBe('wrong-tenant');
  });

  it('tampered signature: on the device certificate, or on its CA', () => {
    const device = h.device.der.slice();
    device[device.length - 3]! ^= 0x10;
    const ca = h.deviceCaA.der.slice();
    ca[ca.length - 3]! ^= 0x10;
    const verifier = createChainVerifier({ trustAnchors: [h.root.der] });
    const run = (chain: Uint8Array[]) => {
      const result = verifier.verify({
        chain,
        nowMs: NOW.getTime(),
        purpose: 'device',
        revocation: () => 'good',
      });
      return result.status === 'valid' ? 'valid' : result.reason;
    };
    expect(run([device, h.deviceCaA.der])).toBe('bad-signature');
    expect(run([h.device.der, ca])).toBe('bad-signature');
    // The cache of verified links is keyed by exact bytes: the genuine chain still passes after.
    expect(run([h.device.der, h.deviceCaA.der])).toBe('valid');
    expect(run([device, h.deviceCaA.der])).toBe('bad-signature');
  });

  it('a CA signed by a forged key that copies the real issuer name is bad-signature', async () => {
    const forgedCa = await issue({
      profile: { kind: 'device-ca', tenantId: 'tenant-a' },
      subject: { organization: 'Amulet Test', commonName: 'Device CA tenant-a' },
      issuer: { ...h.root, key: testKey() },
      key: h.deviceCaA.key,
    });
    expect(check({ chain: [h.device, forgedCa] })).toBe('bad-signature');
  });
});
