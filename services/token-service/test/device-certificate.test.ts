import { buildCrl } from '@amulet/pki';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeviceCertificates, type TokenServiceError } from '../src/index.ts';
import { DAY_MS, NOW, testPki } from './harness.ts';

describe('device certificates: chain, revocation list and CRLs (RFC 5280)', () => {
  it('refuses a device a CRL of its CA revokes; accepts the others; refuses all once the CRL is stale', async () => {
    const pki = await testPki();
    const revoked = await pki.device('SN-R1');
    const good = await pki.device('SN-R2');
    const crl = await buildCrl(
      {
        issuer: pki.deviceCa.parsed,
        entries: [{ serialHex: revoked.parsed.serialHex, revokedAt: NOW, reason: 'keyCompromise' }],
        thisUpdate: new Date(NOW.getTime() - DAY_MS),
        nextUpdate: new Date(NOW.getTime() + 7 * DAY_MS),
        crlNumber: 1,
      },
      pki.deviceCa.key.signer,
    );
    const devices = new DeviceCertificates({
      trustAnchors: [pki.root.der],
      intermediates: [pki.deviceCa.der],
      crls: [crl],
    });
    const now = NOW.getTime();
    expect(devices.verify([revoked.der, pki.deviceCa.der], now)).toEqual({
      status: 'invalid',
      reason: 'revoked',
    });
    expect(devices.verify([good.der, pki.deviceCa.der], now)).toMatchObject({
      status: 'valid',
      serial: good.parsed.serialHex,
      tenantId: 'tenant-a',
    });
    expect(devices.verify([good.der, pki.deviceCa.der], now + 8 * DAY_MS)).toEqual({
      status: 'invalid',
      reason: 'revoked',
    });
    // The plain revocation list works too, and without any list the device is accepted.
    const listed = new DeviceCertificates({
      trustAnchors: [pki.root.der],
      revokedSerials: [good.parsed.serialHex],
    });
    expect(listed.verify([good.der, pki.deviceCa.der], now).status).toBe('invalid');
    const open = new DeviceCertificates({ trustAnchors: [pki.root.der] });
    expect(open.verify([revoked.der, pki.deviceCa.der], now).status).toBe('valid');
  });

  it('refuses to start with a CRL signed by an unknown key or that does not parse', async () => {
    const pki = await testPki();
    const other = await testPki();
    const forged = await buildCrl(
      {
        issuer: pki.deviceCa.parsed,
        entries: [],
        thisUpdate: NOW,
        nextUpdate: new Date(NOW.getTime() + DAY_MS),
        crlNumber: 2,
      },
      other.deviceCa.key.signer,
    );
    const attempt = (crl: Uint8Array): string => {
      try {
        new DeviceCertificates({
          trustAnchors: [pki.root.der],
          intermediates: [pki.deviceCa.der],
          crls: [crl],
        });
        return 'accepted';
      } catch (error) {
        return (error as TokenServiceError).code;
      }
    };
    expect(attempt(forged)).toBe('ERR_TSP_INPUT');
    expect(attempt(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]))).toBe('ERR_TSP_INPUT');
    expect(attempt(new Uint8Array(0))).toBe('ERR_TSP_INPUT');
    // Never crashes: any bytes, or any one byte of a valid CRL's signed part changed, are refused
    // with the typed error (the unsigned tail, the signature's BIT STRING wrapper, is left out).
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(attempt(bytes)).toBe('ERR_TSP_INPUT');
      }),
      {
        numRuns: 300,
      },
    );
    const valid = await buildCrl(
      {
        issuer: pki.deviceCa.parsed,
        entries: [],
        thisUpdate: NOW,
        nextUpdate: new Date(NOW.getTime() + DAY_MS),
        crlNumber: 3,
      },
      pki.deviceCa.key.signer,
    );
    expect(attempt(valid)).toBe('accepted');
    fc.assert(
      fc.property(fc.nat({ max: valid.length - 100 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const changed = valid.slice();
        changed[at]! ^= x;
        expect(attempt(changed)).toBe('ERR_TSP_INPUT');
      }),
      { numRuns: 100 },
    );
  });
});
