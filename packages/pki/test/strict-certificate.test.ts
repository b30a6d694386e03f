import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '../src/index.ts';
import { readSchemaSkeleton } from '../src/parse-certificate.ts';
import { readStrictSkeleton } from '../src/strict-certificate.ts';
import { openssl, scratch } from './helpers/openssl.ts';
import {
  ATTRIBUTES_A,
  DAY_MS,
  issue,
  NOW,
  type TestCa,
  testHierarchy,
  testKey,
} from './helpers/test-hierarchy.ts';

/**
 * The strict DER reader (strict-certificate.ts) may only change how fast a certificate is read:
 * whenever it gives a skeleton, the ASN.1 schema reader must give the same one. It must also take
 * the certificates Amulet's CAs and OpenSSL issue, or the fast path would never run.
 */
function schemaOrError(der: Uint8Array) {
  try {
    return readSchemaSkeleton(der);
  } catch (error) {
    return { error: (error as Error).message };
  }
}

const certificates: { name: string; der: Uint8Array; strict: boolean }[] = [];
const dir = scratch('amulet-strict-cert-');

/** An OpenSSL certificate from a config; `strict` says whether the strict reader should take it. */
function fromOpenssl(name: string, strict: boolean, args: string[], config?: string): void {
  dir.write(`${name}.key`, '');
  const key = openssl(
    ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`],
    dir.dir,
  );
  expect(key.status, key.output).toBe(0);
  if (config !== undefined) dir.write(`${name}.cnf`, config);
  const made = openssl(
    [
      'req',
      '-new',
      '-x509',
      '-key',
      `${name}.key`,
      '-outform',
      'DER',
      '-out',
      `${name}.der`,
      ...(config === undefined ? [] : ['-config', `${name}.cnf`]),
      ...args,
    ],
    dir.dir,
  );
  expect(made.status, made.output).toBe(0);
  certificates.push({ name, der: new Uint8Array(readFileSync(join(dir.dir, `${name}.der`))), strict });
}

beforeAll(async () => {
  const h = await testHierarchy();
  for (const [name, ca] of Object.entries(h) as [string, TestCa][])
    certificates.push({ name: `amulet ${name}`, der: ca.der, strict: true });
  // Past 2049: GeneralizedTime (RFC 5280 4.1.2.5); a P-384 key; an OCSP URL and UTF-8 names.
  const late = await issue({
    profile: { kind: 'device', attributes: ATTRIBUTES_A },
    subject: { organization: 'Ångström Wearables', serialNumber: 'SN-9', commonName: 'Bånd ✓' },
    issuer: h.deviceCaA,
    key: testKey('P-384'),
    notBefore: new Date(NOW.getTime() - DAY_MS),
    notAfter: new Date('2061-01-01T00:00:00Z'),
  });
  certificates.push({ name: 'amulet device, GeneralizedTime, P-384, UTF-8', der: late.der, strict: true });

  fromOpenssl('openssl-default', true, ['-subj', '/C=FR/O=Amulet/CN=plain', '-days', '30']);
  fromOpenssl('openssl-utf8', true, ['-utf8', '-subj', '/O=Société/CN=Montre', '-days', '30']);
  fromOpenssl('openssl-2050', true, ['-subj', '/CN=late', '-days', '12000']);
  fromOpenssl(
    'openssl-critical',
    true,
    ['-subj', '/CN=critical', '-days', '30'],
    [
      '[req]',
      'distinguished_name = dn',
      'x509_extensions = ext',
      '[dn]',
      '[ext]',
      'basicConstraints = critical, CA:TRUE, pathlen:1',
      'keyUsage = critical, keyCertSign, cRLSign',
      'extendedKeyUsage = clientAuth',
      'subjectAltName = DNS:example.test',
      '1.3.6.1.4.1.99999.77 = critical, ASN1:UTF8String:unknown',
      '',
    ].join('\n'),
  );
  // A BMPString name (a character outside Latin-1 under OpenSSL's "default" string mask): left to
  // the schema reader.
  fromOpenssl(
    'openssl-bmp',
    false,
    ['-utf8', '-days', '30'],
    [
      '[req]',
      'distinguished_name = dn',
      'string_mask = default',
      'utf8 = yes',
      'prompt = no',
      '[dn]',
      'CN = bmp ✓',
      '',
    ].join('\n'),
  );
});

afterAll(() => dir.remove());

describe('the strict certificate reader', () => {
  it('takes the certificates Amulet and OpenSSL issue, and reads each as the schema does', () => {
    expect(certificates.length).toBeGreaterThanOrEqual(10);
    for (const { name, der, strict } of certificates) {
      const fast = readStrictSkeleton(der);
      expect(fast !== undefined, name).toBe(strict);
      if (fast !== undefined) expect(fast, name).toEqual(readSchemaSkeleton(der));
      // Whichever reader ran, the certificate parses.
      expect(parseCertificate(der).der).toBe(der);
    }
  });

  it('never gives a skeleton the schema would not give, on damaged certificates', () => {
    const bases = certificates.map((c) => c.der);
    const damaged = fc
      .tuple(
        fc.constantFrom(...bases),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat(), { nil: undefined }),
      )
      .map(([base, edits, cut]) => {
        const bytes = base.slice();
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        return cut === undefined ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
      });
    let taken = 0;
    fc.assert(
      fc.property(damaged, (der) => {
        const fast = readStrictSkeleton(der);
        if (fast === undefined) return;
        taken++;
        expect(fast).toEqual(schemaOrError(der));
      }),
      { numRuns: 4000 },
    );
    // Edits in names, serials, times and signatures leave well-formed certificates: the property
    // was exercised on many, not only on refusals.
    expect(taken).toBeGreaterThan(100);
  });

  it('leaves every form outside the profile to the schema reader (BER lengths, unused bits, odd times)', () => {
    const base = certificates.find((c) => c.name === 'amulet device')?.der;
    expect(base).toBeDefined();
    // A long-form length where a short one fits (BER, not DER) on the outer SEQUENCE.
    const body = base!.subarray(base![1]! & 0x80 ? 2 + (base![1]! & 0x7f) : 2);
    const ber = Uint8Array.of(0x30, 0x83, 0, (body.length >> 8) & 0xff, body.length & 0xff, ...body);
    expect(readStrictSkeleton(ber)).toBeUndefined();
    // Not a certificate at all.
    expect(readStrictSkeleton(new Uint8Array(0))).toBeUndefined();
    expect(readStrictSkeleton(Uint8Array.of(0x30, 0x00))).toBeUndefined();
  });
});
