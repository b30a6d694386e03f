import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildCrl,
  buildCsr,
  fromPem,
  OID,
  PkiError,
  parseCertificate,
  toPem,
  verifyCsr,
} from '../src/index.ts';
import { openssl, scratch } from './helpers/openssl.ts';
import { DAY_MS, issue, NOW, type TestHierarchy, testHierarchy, testKey } from './helpers/test-hierarchy.ts';

let h: TestHierarchy;
const work = scratch('amulet-pki-');
const pem = (der: Uint8Array) => toPem('CERTIFICATE', der);

beforeAll(async () => {
  h = await testHierarchy();
  work.write('root.pem', pem(h.root.der));
  work.write('device-ca.pem', pem(h.deviceCaA.der));
  work.write('service-ca.pem', pem(h.serviceCa.der));
});
afterAll(() => work.remove());

const attime = ['-attime', String(Math.floor(NOW.getTime() / 1000))];

describe('issued certificates against the OpenSSL command line', () => {
  it('a device certificate passes openssl verify against its chain', () => {
    work.write('device.pem', pem(h.device.der));
    const result = openssl(
      ['verify', ...attime, '-CAfile', 'root.pem', '-untrusted', 'device-ca.pem', 'device.pem'],
      work.dir,
    );
    expect(result).toEqual({ status: 0, output: 'device.pem: OK\n' });
  });

  it('a service certificate with TSP roles passes openssl verify with purpose sslserver', async () => {
    const service = await issue({
      profile: { kind: 'service', roles: ['tsp-loader', 'tsp-encryption'], dnsNames: ['tsp.amulet.test'] },
      subject: { organization: 'Amulet', commonName: 'tsp' },
      issuer: h.serviceCa,
    });
    work.write('service.pem', pem(service.der));
    const args = [
      'verify',
      ...attime,
      '-purpose',
      'sslserver',
      '-CAfile',
      'root.pem',
      '-untrusted',
      'service-ca.pem',
      'service.pem',
    ];
    expect(openssl(args, work.dir).status).toBe(0);
    expect(service.parsed.extendedKeyUsage).toEqual([
      OID.serverAuth,
      OID.clientAuth,
      OID.amuletKpTspLoader,
      OID.amuletKpTspEncryption,
    ]);
  });

  it('openssl refuses a chain with a tampered signature', () => {
    const tampered = h.device.der.slice();
    tampered[tampered.length - 2]! ^= 0x40;
    work.write('tampered.pem', pem(tampered));
    const result = openssl(
      ['verify', ...attime, '-CAfile', 'root.pem', '-untrusted', 'device-ca.pem', 'tampered.pem'],
      work.dir,
    );
    expect(result.status).not.toBe(0);
  });

  it('the device profile has the documented extensions', () => {
    const text = openssl(['x509', '-in', 'device.pem', '-noout', '-text'], work.dir).output;
    expect(text).toContain('CA:FALSE');
    expect(text).toContain('Digital Signature, Key Agreement');
    expect(text).toContain(OID.amuletKpDevice);
    expect(text).toContain(OID.amuletDeviceAttributes);
    expect(text).toMatch(/Subject: O = ACME, serialNumber = SN-0001, CN = Band 2/);
    const device = parseCertificate(h.device.der);
    expect(device.subjectKeyId).toBeDefined();
    expect(device.authorityKeyId).toEqual(h.deviceCaA.parsed.subjectKeyId);
    expect(h.deviceCaA.parsed.tenantId).toBe('tenant-a');
    expect(h.deviceCaA.parsed.pathLength).toBe(0);
  });

  it('a CRL we sign passes openssl crl -verify and makes openssl verify -crl_check refuse the certificate', async () => {
    const revoked = await issue({
      profile: {
        kind: 'device',
        attributes: { oemId: 'ACME', model: 'M', seType: 'software', tenantId: 'tenant-a' },
      },
      subject: { serialNumber: 'SN-R' },
      issuer: h.deviceCaA,
    });
    const crl = await buildCrl(
      {
        issuer: h.deviceCaA.parsed,
        entries: [{ serialHex: revoked.parsed.serialHex, revokedAt: NOW, reason: 'keyCompromise' }],
        thisUpdate: new Date(NOW.getTime() - DAY_MS),
        nextUpdate: new Date(NOW.getTime() + 7 * DAY_MS),
        crlNumber: 2,
      },
      h.deviceCaA.key.signer,
    );
    work.write('device-ca.crl.pem', toPem('X509 CRL', crl));
    work.write('revoked.pem', pem(revoked.der));
    const check = openssl(
      ['crl', '-in', 'device-ca.crl.pem', '-CAfile', 'device-ca.pem', '-noout', '-verify'],
      work.dir,
    );
    expect(check.output).toContain('verify OK');
    const args = [
      'verify',
      ...attime,
      '-crl_check',
      '-CRLfile',
      'device-ca.crl.pem',
      '-CAfile',
      'root.pem',
      '-untrusted',
      'device-ca.pem',
    ];
    expect(openssl([...args, 'revoked.pem'], work.dir).output).toContain('certificate revoked');
    expect(openssl([...args, 'device.pem'], work.dir).status).toBe(0);
  });
});

describe('certification requests', () => {
  it('a CSR we build passes openssl req -verify and verifies here', async () => {
    const key = testKey();
    const csr = await buildCsr(
      { organization: 'ACME', serialNumber: 'SN-9', commonName: 'Band 2' },
      key.signer,
    );
    work.write('ours.csr', toPem('CERTIFICATE REQUEST', csr));
    expect(openssl(['req', '-in', 'ours.csr', '-noout', '-verify'], work.dir).output).toMatch(/verify OK/i);
    expect(verifyCsr(csr)).toEqual({
      subject: { organization: 'ACME', serialNumber: 'SN-9', commonName: 'Band 2' },
      subjectPublicKeyInfo: key.signer.publicKeySpki(),
    });
  });

  it('accepts a CSR made by openssl from its own key', () => {
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'dev.key'], work.dir);
    openssl(
      ['req', '-new', '-key', 'dev.key', '-subj', '/O=ACME/serialNumber=SN-7/CN=Band 3', '-out', 'dev.csr'],
      work.dir,
    );
    const csr = fromPem(readFileSync(join(work.dir, 'dev.csr'), 'utf8'), 'CERTIFICATE REQUEST');
    expect(verifyCsr(csr).subject).toEqual({
      organization: 'ACME',
      serialNumber: 'SN-7',
      commonName: 'Band 3',
    });
  });

  it('refuses a CSR whose signature does not verify, with one fixed error', async () => {
    const csr = await buildCsr({ commonName: 'Band 2' }, testKey().signer);
    csr[csr.length - 1]! ^= 0x01;
    expect(() => verifyCsr(csr)).toThrow(PkiError);
    try {
      verifyCsr(csr);
    } catch (error) {
      expect((error as PkiError).code).toBe('ERR_PKI_CSR_SIGNATURE');
    }
  });

  it('refuses an RSA key', () => {
    openssl(
      ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', 'rsa.key'],
      work.dir,
    );
    openssl(['req', '-new', '-key', 'rsa.key', '-subj', '/CN=x', '-out', 'rsa.csr'], work.dir);
    const csr = fromPem(readFileSync(join(work.dir, 'rsa.csr'), 'utf8'), 'CERTIFICATE REQUEST');
    expect(() => verifyCsr(csr)).toThrow(/ECDSA/);
  });
});
