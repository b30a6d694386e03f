import { readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { toPem } from '@amulet/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority, createOcspServer } from '../src/index.ts';
import { close, deviceCsr, freshRootOfTrust, listen, openssl, opensslAsync } from './helpers.ts';

let rot: Awaited<ReturnType<typeof freshRootOfTrust>>;
let ca: CertificateAuthority;
let server: Server;
let url: string;
let serialHex: string;

beforeAll(async () => {
  rot = await freshRootOfTrust();
  ca = CertificateAuthority.open({ dir: rot.dir, masterKey: rot.masterKey });
  const issued = await ca.issue({ profile: 'device', csr: await deviceCsr() });
  serialHex = issued.serialHex;
  writeFileSync(join(rot.dir, 'dev.pem'), issued.pem);
  server = createOcspServer(ca);
  url = await listen(server);
});
afterAll(async () => {
  await close(server);
  rot.remove();
});

const query = () =>
  opensslAsync(
    ['ocsp', '-issuer', 'device-ca.pem', '-cert', 'dev.pem', '-url', url, '-CAfile', 'root.pem'],
    rot.dir,
  );

describe('OCSP responder with the OpenSSL command line', () => {
  it('the issued certificate passes openssl verify against its chain', () => {
    expect(
      openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'device-ca.pem', 'dev.pem'], rot.dir).output,
    ).toBe('dev.pem: OK\n');
  });

  it('answers good, signed by the device CA, with the nonce echoed', async () => {
    const result = await query();
    expect(result.output).toContain('Response verify OK');
    expect(result.output).toContain('dev.pem: good');
    expect(result.output).not.toContain('WARNING');
  });

  it('answers over GET (RFC 6960 Appendix A.1) too', async () => {
    openssl(
      ['ocsp', '-issuer', 'device-ca.pem', '-cert', 'dev.pem', '-no_nonce', '-reqout', 'req.der'],
      rot.dir,
    );
    const request = readFileSync(join(rot.dir, 'req.der'));
    const response = await fetch(`${url}/${encodeURIComponent(request.toString('base64'))}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/ocsp-response');
    writeFileSync(join(rot.dir, 'resp.der'), new Uint8Array(await response.arrayBuffer()));
    const shown = openssl(
      ['ocsp', '-respin', 'resp.der', '-issuer', 'device-ca.pem', '-cert', 'dev.pem', '-CAfile', 'root.pem'],
      rot.dir,
    );
    expect(shown.output).toContain('dev.pem: good');
  });

  it('answers malformedRequest to bytes that are not a request', async () => {
    const response = await fetch(url, { method: 'POST', body: new Uint8Array([1, 2, 3]) });
    expect(Buffer.from(await response.arrayBuffer()).toString('hex')).toBe('30030a0101');
  });

  it('answers unauthorized for a certificate of another issuer', async () => {
    const result = await opensslAsync(
      ['ocsp', '-issuer', 'root.pem', '-cert', 'device-ca.pem', '-url', url, '-CAfile', 'root.pem'],
      rot.dir,
    );
    expect(result.output).toMatch(/unauthorized/i);
  });

  it('answers revoked after a revocation, seen by the running server', async () => {
    // A separate instance revokes, as `amulet rot revoke` does from another process.
    const other = CertificateAuthority.open({ dir: rot.dir, masterKey: rot.masterKey });
    await other.revoke(serialHex, 'keyCompromise');
    const result = await query();
    expect(result.output).toContain('Response verify OK');
    expect(result.output).toContain('dev.pem: revoked');
    expect(result.output).toContain('Reason: keyCompromise');
  });

  it('the re-signed CRL verifies and makes openssl verify -crl_check_all refuse the certificate', () => {
    expect(
      openssl(['crl', '-in', 'device-ca.crl.pem', '-CAfile', 'device-ca.pem', '-noout', '-verify'], rot.dir)
        .output,
    ).toContain('verify OK');
    const crls =
      readFileSync(join(rot.dir, 'root.crl.pem'), 'utf8') +
      readFileSync(join(rot.dir, 'device-ca.crl.pem'), 'utf8');
    writeFileSync(join(rot.dir, 'crls.pem'), crls);
    const result = openssl(
      [
        'verify',
        '-crl_check_all',
        '-CRLfile',
        'crls.pem',
        '-CAfile',
        'root.pem',
        '-untrusted',
        'device-ca.pem',
        'dev.pem',
      ],
      rot.dir,
    );
    expect(result.output).toContain('certificate revoked');
  });

  it('refuses to revoke twice or an unknown serial', async () => {
    await expect(ca.revoke(serialHex, 'unspecified')).rejects.toMatchObject({ code: 'ERR_ALREADY_REVOKED' });
    await expect(ca.revoke('0102', 'unspecified')).rejects.toMatchObject({ code: 'ERR_UNKNOWN_SERIAL' });
  });

  it('the root CRL and CA certificates are PEM files openssl reads', () => {
    expect(
      openssl(['crl', '-in', 'root.crl.pem', '-CAfile', 'root.pem', '-noout', '-verify'], rot.dir).output,
    ).toContain('verify OK');
    expect(toPem('X', new Uint8Array([1]))).toContain('BEGIN X');
  });
});
