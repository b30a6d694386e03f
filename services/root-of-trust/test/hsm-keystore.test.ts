import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Hsm, Pkcs11Hsm, SoftwareHsm } from '@amulet/hsm';
import { afterAll, describe, expect, it } from 'vitest';
import { CertificateAuthority, HsmKeystore, runKeyCeremony } from '../src/index.ts';
import { deviceCsr, openssl } from './helpers.ts';

// The CA keys inside @amulet/hsm: its software backend, and PKCS#11 on a throwaway SoftHSM2
// token (Debian package softhsm2, installed by .ci/run).
const work = mkdtempSync(join(tmpdir(), 'amulet-rot-hsm-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const softhsmLibrary = '/usr/lib/softhsm/libsofthsm2.so';
const pin = randomBytes(4).toString('hex');
function softhsmToken(): void {
  const conf = join(work, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${work}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = conf;
  execFileSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', 'amulet-rot', '--pin', pin, '--so-pin', '5678'],
    {
      stdio: 'ignore',
    },
  );
}
softhsmToken();

const backends: [string, () => Promise<Hsm>][] = [
  [
    'software HSM',
    () => SoftwareHsm.open({ path: join(work, 'soft.keys'), masterKey: new Uint8Array(32).fill(3) }),
  ],
  ['PKCS#11 (SoftHSM2)', () => Pkcs11Hsm.open({ library: softhsmLibrary, tokenLabel: 'amulet-rot', pin })],
];

describe.each(backends)('CA keys in the %s', (_name, openHsm) => {
  it('runs the ceremony, issues a certificate that openssl verifies, and reopens the same keys', async () => {
    const dir = mkdtempSync(join(work, 'ca-'));
    const hsm = await openHsm();
    const keystore = await HsmKeystore.open(hsm, { prefix: `rot-${randomBytes(3).toString('hex')}-` });
    const files = await runKeyCeremony({
      dir,
      keystore,
      tenantId: 'acme',
      organization: 'Amulet Test',
      rootCurve: 'P-256',
      now: new Date(),
    });
    expect(files.some((file) => file.endsWith('.key.json'))).toBe(false);
    expect(['root', 'device-ca', 'service-ca'].every((name) => keystore.has(name))).toBe(true);

    const ca = CertificateAuthority.open({ dir, keystore });
    const issued = await ca.issue({ profile: 'device', csr: await deviceCsr() });
    writeFileSync(join(dir, 'dev.pem'), issued.pem);
    expect(
      openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'device-ca.pem', 'dev.pem'], dir).output,
    ).toBe('dev.pem: OK\n');

    // A second handle finds the keys the ceremony made, and its CA signs with them.
    const reopened = await HsmKeystore.open(hsm, { prefix: keystore.prefix });
    expect(reopened.load('device-ca').publicKeySpki()).toEqual(keystore.load('device-ca').publicKeySpki());
    const again = await CertificateAuthority.open({ dir, keystore: reopened }).issue({
      profile: 'device',
      csr: await deviceCsr(),
    });
    writeFileSync(join(dir, 'dev2.pem'), again.pem);
    expect(
      openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'device-ca.pem', 'dev2.pem'], dir).output,
    ).toBe('dev2.pem: OK\n');

    // Refusals: an existing name, a curve the HSM does not hold, an unknown key, a bad name.
    await expect(keystore.generate('root', 'P-256')).rejects.toThrow(/already exists/);
    await expect(keystore.generate('other', 'P-384')).rejects.toThrow(/P-256 keys only/);
    expect(() => keystore.load('missing')).toThrow(expect.objectContaining({ code: 'ERR_KEYSTORE_KEY' }));
    expect(() => keystore.load('../root')).toThrow(expect.objectContaining({ code: 'ERR_KEYSTORE_KEY' }));
    await hsm.close();
  });
});
