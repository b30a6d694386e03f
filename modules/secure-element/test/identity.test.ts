import { fromHex, toHex } from '@amulet/bytes';
import { createAttestationVerifier, parseCertificate, verifyCsr } from '@amulet/pki';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decodeAttestationContext,
  loadSandboxCards,
  pointFromSpki,
  publicPoint,
  Scp11HostSession,
  unseal,
} from '../src/index.ts';
import { DEVICE_KEY, rig, seededRng } from './fixtures.ts';
import { manufacture, NOW, type TestPki, testPki } from './pki-fixtures.ts';

let pki: TestPki;
beforeAll(async () => {
  pki = await testPki();
});

/** Reads the sealed state with the device key, as only a test can: where the private key lives. */
function privateKeyOf(blob: Uint8Array | undefined): string {
  const { plaintext } = unseal(DEVICE_KEY, blob ?? new Uint8Array(0));
  const state = JSON.parse(new TextDecoder().decode(plaintext)) as { identity?: { privateKey: string } };
  return state.identity?.privateKey ?? '';
}

describe('device identity', () => {
  it('generates the key inside; the CSR verifies with @amulet/pki and carries that key', async () => {
    const { se, blobs } = rig({ seed: 'identity' });
    expect(se.devicePublicKey).toBeUndefined();
    const spki = se.generateDeviceKey();
    expect(toHex(se.devicePublicKey ?? new Uint8Array(0))).toBe(toHex(spki));
    const csr = verifyCsr(
      await se.certificationRequest({ organization: 'ACME', serialNumber: 'SN-1', commonName: 'Band 2' }),
    );
    expect(toHex(csr.subjectPublicKeyInfo)).toBe(toHex(spki));
    expect(csr.subject).toEqual({ organization: 'ACME', serialNumber: 'SN-1', commonName: 'Band 2' });
    // The key is in sealed storage only; its public half matches.
    expect(toHex(publicPoint(fromHex(privateKeyOf(blobs.blob))))).toBe(toHex(pointFromSpki(spki)));
    expect(() => se.generateDeviceKey()).toThrow(expect.objectContaining({ code: 'ERR_SE_IDENTITY_EXISTS' }));
  });

  it('stores the issued chain, and refuses a certificate for another key', async () => {
    const a = rig({ seed: 'a' });
    const b = rig({ seed: 'b' });
    const leafA = await manufacture(a.se, pki, 'SN-A');
    b.se.generateDeviceKey();
    expect(() => b.se.storeCertificates([leafA, pki.deviceCa.der])).toThrow(/not for this device key/);
    expect(() => b.se.storeCertificates([fromHex('3000')])).toThrow(/does not parse/);
    expect(a.reopen().certificates().map(toHex)).toEqual([toHex(leafA), toHex(pki.deviceCa.der)]);
    expect(parseCertificate(leafA).deviceAttributes?.oemId).toBe('ACME');
  });

  it('signs attestation challenges that @amulet/pki verifies, with the SE state in the context', async () => {
    const { se } = rig({ seed: 'attest' });
    await manufacture(se, pki);
    loadSandboxCards(se);
    se.enrollPin('1234');
    const verifier = createAttestationVerifier({ trustAnchors: [pki.root.der], tenantId: 'tenant-a' });
    const nonce = seededRng('nonce')(32);
    const attestation = se.attest(nonce, new TextEncoder().encode('wallet:register'));
    const used = new Set<string>();
    const input = {
      chain: se.certificates(),
      signature: attestation.signature,
      nonce,
      context: attestation.context,
      nowMs: NOW.getTime(),
      revocation: () => 'good' as const,
      consumeNonce: (n: Uint8Array) => !used.has(toHex(n)) && used.add(toHex(n)) !== undefined,
    };
    const result = verifier.verify(input);
    expect(result.status).toBe('valid');
    const { callerContext, state } = decodeAttestationContext(attestation.context);
    expect(new TextDecoder().decode(callerContext)).toBe('wallet:register');
    expect(state).toMatchObject({ tokens: 3, pin: 'set', certified: true });
    expect(state.storageVersion).toBeGreaterThan(3);
    // A replayed nonce, another context, or a changed signature are refused.
    expect(verifier.verify(input)).toEqual({ status: 'invalid', reason: 'stale-nonce' });
    const fresh = { ...input, consumeNonce: () => true };
    expect(verifier.verify({ ...fresh, context: new TextEncoder().encode('wallet:register') }).status).toBe(
      'invalid',
    );
    const bad = attestation.signature.slice();
    bad[bad.length - 1]! ^= 1;
    expect(verifier.verify({ ...fresh, signature: bad }).status).toBe('invalid');
  });

  it('attestation and CSR need a device key; a too long context is refused', async () => {
    const { se } = rig({ seed: 'none' });
    expect(() => se.attest(new Uint8Array(16), new Uint8Array(0))).toThrow(
      expect.objectContaining({ code: 'ERR_SE_IDENTITY' }),
    );
    await expect(se.certificationRequest({ commonName: 'x' })).rejects.toMatchObject({
      code: 'ERR_SE_IDENTITY',
    });
    se.generateDeviceKey();
    expect(() => se.attest(new Uint8Array(16), new Uint8Array(201))).toThrow(/at most 200 bytes/);
  });

  it('property: no APDU ever answers with the private key (2,000 random commands after SCP11)', async () => {
    const { se, blobs } = rig({ seed: 'no-export' });
    await manufacture(se, pki);
    loadSandboxCards(se);
    const secret = privateKeyOf(blobs.blob);
    const session = await Scp11HostSession.open({
      transmit: async (a) => se.transmit(a),
      rng: seededRng('oce'),
      verifyCardCertificates: pki.trusts,
    });
    expect(session.receipt.length).toBe(16);
    const head = fc.constantFrom(
      [0x80, 0xca, 0xbf, 0x21],
      [0x00, 0xc0, 0x00, 0x00],
      [0x80, 0x88, 0x00, 0x13],
      [0x84, 0xe6, 0x0c, 0x00],
      [0x84, 0xe2, 0xb0, 0x00],
      [0x80, 0xca, 0x9f, 0x7f],
    );
    fc.assert(
      fc.property(head, fc.uint8Array({ maxLength: 200 }), (h, tail) => {
        se.transmit(fromHex('00A4040008A00000015100000000'));
        const response = se.transmit(Uint8Array.from([...h, ...tail]));
        const sw1 = response[response.length - 2] ?? 0;
        expect((sw1 >= 0x61 && sw1 <= 0x6f) || (sw1 >= 0x90 && sw1 <= 0x9f)).toBe(true);
        expect(toHex(response)).not.toContain(secret);
      }),
      { numRuns: 2_000, seed: 11 },
    );
  });
});
