import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AttestationFailure,
  type AttestationInput,
  attestationMessage,
  CHAIN_FAILURES,
  createAttestationVerifier,
  verifyAttestation,
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
beforeAll(async () => {
  h = await testHierarchy();
  other = await testHierarchy();
});

const context = new TextEncoder().encode('wallet:register');

/** A one-time nonce store, as the server keeps. */
function nonceStore(...issued: Uint8Array[]) {
  const live = new Set(issued.map((n) => Buffer.from(n).toString('hex')));
  return (nonce: Uint8Array) => live.delete(Buffer.from(nonce).toString('hex'));
}

async function attestationOf(
  device: TestCa,
  chainTail: TestCa[],
  overrides: Partial<AttestationInput> = {},
): Promise<AttestationInput> {
  const nonce = new Uint8Array(randomBytes(32));
  return {
    chain: [device.der, ...chainTail.map((c) => c.der)],
    nonce,
    context,
    signature: await device.key.signer.sign(attestationMessage(nonce, context)),
    nowMs: NOW.getTime(),
    revocation: () => 'good',
    consumeNonce: nonceStore(nonce),
    ...overrides,
  };
}

function verify(input: AttestationInput, tenantId = 'tenant-a') {
  return createAttestationVerifier({ trustAnchors: [h.root.der], tenantId }).verify(input);
}

function reason(result: ReturnType<typeof verify>): AttestationFailure | 'valid' {
  return result.status === 'valid' ? 'valid' : result.reason;
}

describe('attestation verification', () => {
  it('accepts a fresh attestation and reports the device', async () => {
    const result = verify(await attestationOf(h.device, [h.deviceCaA]));
    expect(result).toEqual({
      status: 'valid',
      device: {
        certificateSerialHex: h.device.parsed.serialHex,
        subject: { organization: 'ACME', serialNumber: 'SN-0001', commonName: 'Band 2' },
        attributes: ATTRIBUTES_A,
      },
    });
  });

  it('accepts the device CA from the verifier configuration instead of the chain', async () => {
    const input = await attestationOf(h.device, []);
    const verifier = createAttestationVerifier({
      trustAnchors: [h.root.der],
      intermediates: [h.deviceCaA.der],
      tenantId: 'tenant-a',
    });
    expect(verifier.verify(input).status).toBe('valid');
  });

  it('the one-shot verifyAttestation gives the same answer', async () => {
    const input = await attestationOf(h.device, [h.deviceCaA]);
    expect(verifyAttestation({ ...input, trustAnchors: [h.root.der], tenantId: 'tenant-a' }).status).toBe(
      'valid',
    );
  });

  // One row per failure, in the documented check order.
  it('malformed: a chain that is not DER, an empty chain, a short nonce', async () => {
    expect(
      reason(verify(await attestationOf(h.device, [h.deviceCaA], { chain: [Uint8Array.of(0x30, 0x03, 1)] }))),
    ).toBe('malformed');
    expect(reason(verify(await attestationOf(h.device, [h.deviceCaA], { chain: [] })))).toBe('malformed');
    expect(reason(verify(await attestationOf(h.device, [h.deviceCaA], { nonce: new Uint8Array(8) })))).toBe(
      'malformed',
    );
  });

  it('unknown-ca: a chain under another root, or a device without its CA', async () => {
    expect(reason(verify(await attestationOf(other.device, [other.deviceCaA])))).toBe('unknown-ca');
    expect(reason(verify(await attestationOf(h.device, [])))).toBe('unknown-ca');
  });

  it('bad-signature: a tampered certificate signature', async () => {
    const tampered = h.device.der.slice();
    tampered[tampered.length - 1]! ^= 0x01;
    expect(
      reason(verify(await attestationOf(h.device, [h.deviceCaA], { chain: [tampered, h.deviceCaA.der] }))),
    ).toBe('bad-signature');
  });

  it('bad-signature: a forged device CA that names the real one', async () => {
    const forger = testKey();
    const forged = await issue({
      profile: { kind: 'device', attributes: ATTRIBUTES_A },
      subject: { organization: 'ACME', serialNumber: 'SN-0666', commonName: 'Band 2' },
      issuer: { ...h.deviceCaA, key: forger },
    });
    expect(reason(verify(await attestationOf(forged, [h.deviceCaA])))).toBe('bad-signature');
  });

  it("wrong-tenant: a device from another tenant's CA under the same root", async () => {
    const deviceB = await issue({
      profile: { kind: 'device', attributes: { ...ATTRIBUTES_A, tenantId: 'tenant-b' } },
      subject: { organization: 'ACME', serialNumber: 'SN-0002', commonName: 'Band 2' },
      issuer: h.deviceCaB,
    });
    expect(reason(verify(await attestationOf(deviceB, [h.deviceCaB])))).toBe('wrong-tenant');
    expect(reason(verify(await attestationOf(deviceB, [h.deviceCaB]), 'tenant-b'))).toBe('valid');
  });

  it('not-yet-valid and expired', async () => {
    const future = await issue({
      profile: { kind: 'device', attributes: ATTRIBUTES_A },
      subject: { serialNumber: 'SN-F' },
      issuer: h.deviceCaA,
      notBefore: new Date(NOW.getTime() + DAY_MS),
    });
    const past = await issue({
      profile: { kind: 'device', attributes: ATTRIBUTES_A },
      subject: { serialNumber: 'SN-P' },
      issuer: h.deviceCaA,
      notBefore: new Date(NOW.getTime() - 10 * DAY_MS),
      notAfter: new Date(NOW.getTime() - DAY_MS),
    });
    expect(reason(verify(await attestationOf(future, [h.deviceCaA])))).toBe('not-yet-valid');
    expect(reason(verify(await attestationOf(past, [h.deviceCaA])))).toBe('expired');
  });

  it('wrong-key-usage: a service certificate presented as a device', async () => {
    const service = await issue({
      profile: { kind: 'service', roles: [], dnsNames: [] },
      subject: { commonName: 'tsp' },
      issuer: h.deviceCaA,
    });
    expect(reason(verify(await attestationOf(service, [h.deviceCaA])))).toBe('wrong-key-usage');
  });

  it('wrong-key-usage: a device certificate used as a CA', async () => {
    const underDevice = await issue({
      profile: { kind: 'device', attributes: ATTRIBUTES_A },
      subject: { serialNumber: 'SN-X' },
      issuer: h.device,
    });
    const input = await attestationOf(underDevice, [h.device, h.deviceCaA]);
    // With a tenant configured the device-as-CA has no tenant and fails earlier, as wrong-tenant.
    expect(reason(verify(input))).toBe('wrong-tenant');
    const anyTenant = createAttestationVerifier({ trustAnchors: [h.root.der] });
    expect(reason(anyTenant.verify({ ...input, consumeNonce: () => true }))).toBe('wrong-key-usage');
  });

  it('revoked, and unknown revocation status refused the same way', async () => {
    expect(
      reason(verify(await attestationOf(h.device, [h.deviceCaA], { revocation: () => 'revoked' }))),
    ).toBe('revoked');
    expect(
      reason(verify(await attestationOf(h.device, [h.deviceCaA], { revocation: () => 'unknown' }))),
    ).toBe('revoked');
  });

  it('stale-nonce: a nonce not issued, or used twice', async () => {
    expect(reason(verify(await attestationOf(h.device, [h.deviceCaA], { consumeNonce: () => false })))).toBe(
      'stale-nonce',
    );
    const input = await attestationOf(h.device, [h.deviceCaA]);
    const verifier = createAttestationVerifier({ trustAnchors: [h.root.der], tenantId: 'tenant-a' });
    expect(reason(verifier.verify(input))).toBe('valid');
    expect(reason(verifier.verify(input))).toBe('stale-nonce');
  });

  it('bad-signature: a signature over another nonce or context', async () => {
    const input = await attestationOf(h.device, [h.deviceCaA]);
    const otherContext = new TextEncoder().encode('wallet:pay');
    const signature = await h.device.key.signer.sign(attestationMessage(input.nonce, otherContext));
    expect(reason(verify({ ...input, signature }))).toBe('bad-signature');
    expect(
      reason(verify({ ...(await attestationOf(h.device, [h.deviceCaA])), signature: new Uint8Array(70) })),
    ).toBe('bad-signature');
  });

  it('checks run in the documented order: the first failing check is the answer', async () => {
    expect(CHAIN_FAILURES).toEqual([
      'malformed',
      'unknown-ca',
      'bad-signature',
      'wrong-tenant',
      'not-yet-valid',
      'expired',
      'wrong-key-usage',
      'revoked',
    ]);
    const expiredServiceB = await issue({
      profile: { kind: 'service', roles: [], dnsNames: [] },
      subject: { commonName: 'x' },
      issuer: h.deviceCaB,
      notBefore: new Date(NOW.getTime() - 10 * DAY_MS),
      notAfter: new Date(NOW.getTime() - DAY_MS),
    });
    const everything = { revocation: () => 'revoked' as const, consumeNonce: () => false };
    expect(reason(verify(await attestationOf(expiredServiceB, [h.deviceCaB], everything)))).toBe(
      'wrong-tenant',
    );
    expect(reason(verify(await attestationOf(expiredServiceB, [h.deviceCaB], everything), 'tenant-b'))).toBe(
      'expired',
    );
    expect(reason(verify(await attestationOf(h.device, [h.deviceCaA], everything)))).toBe('revoked');
  });

  it('a device key on P-384 is verified with SHA-384', async () => {
    const device384 = await issue({
      profile: { kind: 'device', attributes: ATTRIBUTES_A },
      subject: { serialNumber: 'SN-384' },
      issuer: h.deviceCaA,
      key: testKey('P-384'),
    });
    const input = await attestationOf(device384, [h.deviceCaA]);
    expect(reason(verify(input))).toBe('valid');
    const other = await attestationOf(device384, [h.deviceCaA]);
    expect(reason(verify({ ...other, signature: input.signature }))).toBe('bad-signature');
  });

  it('a P-384 root (the documented option) verifies the same way', async () => {
    const root = await issue({
      profile: { kind: 'root' },
      subject: { commonName: 'Root 384' },
      key: testKey('P-384'),
    });
    const ca = await issue({
      profile: { kind: 'device-ca', tenantId: 'tenant-a' },
      subject: { commonName: 'CA' },
      issuer: root,
    });
    const device = await issue({
      profile: { kind: 'device', attributes: ATTRIBUTES_A },
      subject: { serialNumber: 'S' },
      issuer: ca,
    });
    const input = await attestationOf(device, [ca]);
    expect(
      createAttestationVerifier({ trustAnchors: [root.der], tenantId: 'tenant-a' }).verify(input).status,
    ).toBe('valid');
  });
});
