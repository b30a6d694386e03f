import { readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { fromPem, fromPemAll, OID, parseCertificate, toPem } from '@amulet/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority, createEnrollmentServer, PROBLEM_TYPES, readState } from '../src/index.ts';
import { close, deviceCsr, freshRootOfTrust, listen, openssl } from './helpers.ts';

const FACTORY = 'factory-secret-7f3a9c';
const OPERATOR = 'operator-secret-c41d02';

let rot: Awaited<ReturnType<typeof freshRootOfTrust>>;
let server: Server;
let url: string;

beforeAll(async () => {
  rot = await freshRootOfTrust('acme');
  const ca = CertificateAuthority.open({ dir: rot.dir, masterKey: rot.masterKey });
  server = createEnrollmentServer(ca, { factory: FACTORY, operator: OPERATOR });
  url = `${await listen(server)}/enroll`;
});
afterAll(async () => {
  await close(server);
  rot.remove();
});

async function enroll(body: unknown, token?: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
}

async function devicePem(): Promise<string> {
  return toPem('CERTIFICATE REQUEST', await deviceCsr());
}

/** An RFC 9457 problem details answer with the given code. */
async function expectProblem(response: Response, code: keyof typeof PROBLEM_TYPES): Promise<void> {
  expect(response.status).toBe(PROBLEM_TYPES[code].status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  const problem = (await response.json()) as Record<string, unknown>;
  expect(problem).toEqual({
    type: `urn:amulet:problem:${code}`,
    title: PROBLEM_TYPES[code].title,
    status: PROBLEM_TYPES[code].status,
    code,
  });
}

describe('enrollment over HTTP: credentials', () => {
  it('refuses a request without credentials: 401 with WWW-Authenticate', async () => {
    const response = await enroll({ profile: 'device', csr: await devicePem() });
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    await expectProblem(response, 'ERR_UNAUTHORIZED');
  });

  it('refuses wrong credentials, a near miss and a non-bearer scheme alike', async () => {
    const csr = await devicePem();
    await expectProblem(await enroll({ profile: 'device', csr }, 'guess'), 'ERR_UNAUTHORIZED');
    await expectProblem(await enroll({ profile: 'device', csr }, `${FACTORY}x`), 'ERR_UNAUTHORIZED');
    await expectProblem(await enroll({ profile: 'device', csr }, FACTORY.slice(1)), 'ERR_UNAUTHORIZED');
    const basic = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`factory:${FACTORY}`).toString('base64')}` },
      body: JSON.stringify({ profile: 'device', csr }),
    });
    await expectProblem(basic, 'ERR_UNAUTHORIZED');
  });

  it('an empty configured secret never matches an empty token', async () => {
    const rot2 = await freshRootOfTrust('acme');
    const ca = CertificateAuthority.open({ dir: rot2.dir, masterKey: rot2.masterKey });
    const open = createEnrollmentServer(ca, { factory: '' });
    const base = await listen(open);
    try {
      const response = await fetch(`${base}/enroll`, {
        method: 'POST',
        headers: { authorization: 'Bearer ' },
        body: JSON.stringify({ profile: 'device', csr: await devicePem() }),
      });
      await expectProblem(response, 'ERR_UNAUTHORIZED');
    } finally {
      await close(open);
      rot2.remove();
    }
  });

  it('the factory may enroll devices but not services; the operator may enroll both', async () => {
    const serviceCsr = toPem(
      'CERTIFICATE REQUEST',
      await deviceCsr({ organization: 'Amulet', commonName: 'tsp.internal' }),
    );
    await expectProblem(await enroll({ profile: 'service', csr: serviceCsr }, FACTORY), 'ERR_FORBIDDEN');
    const response = await enroll(
      { profile: 'service', csr: serviceCsr, roles: ['tsp-loader'], dnsNames: ['tsp.internal'] },
      OPERATOR,
    );
    expect(response.status).toBe(201);
    const [leaf] = fromPemAll(await response.text(), 'CERTIFICATE');
    const parsed = parseCertificate(leaf!);
    expect(parsed.extendedKeyUsage).toEqual([OID.serverAuth, OID.clientAuth, OID.amuletKpTspLoader]);
    expect((await enroll({ profile: 'device', csr: await devicePem() }, OPERATOR)).status).toBe(201);
  });

  it('answers 404 elsewhere and 405 to other methods, as problems', async () => {
    await expectProblem(await fetch(url.replace('/enroll', '/other'), { method: 'POST' }), 'ERR_NOT_FOUND');
    const get = await fetch(url, { headers: { authorization: `Bearer ${FACTORY}` } });
    expect(get.headers.get('allow')).toBe('POST');
    await expectProblem(get, 'ERR_METHOD');
  });
});

describe('enrollment over HTTP: the request', () => {
  it('refuses a CSR whose signature does not verify', async () => {
    const good = await deviceCsr();
    const bad = good.slice();
    bad[bad.length - 2]! ^= 0x40;
    await expectProblem(
      await enroll({ profile: 'device', csr: toPem('CERTIFICATE REQUEST', bad) }, FACTORY),
      'ERR_PKI_CSR_SIGNATURE',
    );
  });

  it('refuses bodies that are not JSON, lack a CSR, name no profile, or carry bad attributes', async () => {
    const csr = await devicePem();
    await expectProblem(await enroll('{not json', FACTORY), 'ERR_BAD_REQUEST');
    await expectProblem(await enroll({ profile: 'device' }, FACTORY), 'ERR_BAD_REQUEST');
    await expectProblem(await enroll({ profile: 'router', csr }, FACTORY), 'ERR_BAD_REQUEST');
    await expectProblem(await enroll({ profile: 'device', csr: 'PEM?' }, FACTORY), 'ERR_PKI_PEM');
    await expectProblem(
      await enroll({ profile: 'device', csr, model: 'Band\n2' }, FACTORY),
      'ERR_PKI_ATTRIBUTE',
    );
    await expectProblem(
      await enroll({ profile: 'device', csr, seType: 'magic' }, FACTORY),
      'ERR_ENROLL_ATTRIBUTE',
    );
    const noSerial = toPem('CERTIFICATE REQUEST', await deviceCsr({ organization: 'ACME', commonName: 'B' }));
    await expectProblem(await enroll({ profile: 'device', csr: noSerial }, FACTORY), 'ERR_ENROLL_ATTRIBUTE');
  });

  it('refuses a body over the size limit', async () => {
    await expectProblem(
      await enroll({ profile: 'device', csr: 'A'.repeat(40_000) }, FACTORY),
      'ERR_TOO_LARGE',
    );
  });
});

describe('enrollment over HTTP: the issued device certificate', () => {
  let chainPem: string;
  let serial: string | null;

  beforeAll(async () => {
    const response = await enroll(
      {
        profile: 'device',
        csr: await devicePem(),
        serialNumber: 'SN-7781',
        model: 'Band 3',
        seType: 'integrated',
      },
      FACTORY,
    );
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('application/pem-certificate-chain');
    serial = response.headers.get('x-amulet-serial');
    chainPem = await response.text();
    const [leaf, ca] = fromPemAll(chainPem, 'CERTIFICATE');
    writeFileSync(join(rot.dir, 'enrolled.pem'), toPem('CERTIFICATE', leaf!));
    writeFileSync(join(rot.dir, 'enrolled-ca.pem'), toPem('CERTIFICATE', ca!));
  });

  it('answers the certificate then its device CA, and openssl verifies it against the root', () => {
    expect(readFileSync(join(rot.dir, 'enrolled-ca.pem'), 'utf8')).toBe(
      readFileSync(join(rot.dir, 'device-ca.pem'), 'utf8'),
    );
    expect(
      openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'enrolled-ca.pem', 'enrolled.pem'], rot.dir)
        .output,
    ).toBe('enrolled.pem: OK\n');
  });

  it('carries the documented device profile', () => {
    const leaf = parseCertificate(
      fromPem(readFileSync(join(rot.dir, 'enrolled.pem'), 'utf8'), 'CERTIFICATE'),
    );
    expect(leaf.serialHex).toBe(serial);
    expect(leaf.subject).toEqual({ organization: 'ACME', serialNumber: 'SN-7781', commonName: 'Band 3' });
    expect(leaf.isCa).toBe(false);
    expect(leaf.keyUsage).toBe(1 | 16); // digitalSignature | keyAgreement (RFC 5280 section 4.2.1.3)
    expect(leaf.extendedKeyUsage).toEqual([OID.amuletKpDevice]);
    expect(leaf.deviceAttributes).toEqual({
      oemId: 'ACME',
      model: 'Band 3',
      seType: 'integrated',
      tenantId: 'acme',
    });
    expect(leaf.hasUnknownCriticalExtension).toBe(false);
    expect(leaf.notAfterMs).toBeGreaterThan(Date.now());
  });

  it('openssl shows the same profile, the device-attributes extension by its OID', () => {
    const text = openssl(['x509', '-in', 'enrolled.pem', '-noout', '-text'], rot.dir).output;
    expect(text).toMatch(/Subject: O ?= ?ACME, serialNumber ?= ?SN-7781, CN ?= ?Band 3/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Key Agreement/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toContain(OID.amuletKpDevice);
    expect(text).toContain(`${OID.amuletDeviceAttributes}:`);
    expect(text).toContain('ecdsa-with-SHA256');
  });

  it('is recorded, one durable line in state.journal, under the device CA', () => {
    const lines = readFileSync(join(rot.dir, 'state.journal'), 'utf8').trimEnd().split('\n');
    const entry = lines.map((l) => JSON.parse(l)).find((e) => e.serial === serial);
    expect(entry).toMatchObject({ op: 'issued', record: { ca: 'device-ca', profile: 'device' } });
    expect(readState(join(rot.dir, 'state.json')).issued[serial!]).toMatchObject({
      ca: 'device-ca',
      profile: 'device',
    });
  });
});

describe('problem types', () => {
  it('docs/root-of-trust.md lists every problem code with its status', () => {
    const doc = readFileSync(new URL('../../../docs/root-of-trust.md', import.meta.url), 'utf8');
    for (const [code, { status }] of Object.entries(PROBLEM_TYPES)) {
      expect(doc).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`));
    }
  });
});
