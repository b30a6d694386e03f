import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Pkcs11Hsm } from '../src/index.ts';
import { hsmConformance } from './conformance.ts';

// SoftHSM2 (Debian package softhsm2) with a throwaway token in a fresh directory: the
// configuration is named by SOFTHSM2_CONF before the module is loaded.
const library = '/usr/lib/softhsm/libsofthsm2.so';
const directory = mkdtempSync(join(tmpdir(), 'amulet-softhsm-'));
const configuration = join(directory, 'softhsm2.conf');
writeFileSync(
  configuration,
  `directories.tokendir = ${directory}\nobjectstore.backend = file\nlog.level = ERROR\n`,
);
process.env.SOFTHSM2_CONF = configuration;
const pin = randomBytes(4).toString('hex');
execFileSync(
  'softhsm2-util',
  ['--init-token', '--free', '--label', 'amulet-test', '--pin', pin, '--so-pin', '5678'],
  {
    stdio: 'ignore',
  },
);

describe('SoftHSM2', () => {
  it('is installed where the backend looks for it', () => {
    expect(existsSync(library)).toBe(true);
  });
  it('refuses a wrong PIN without naming it', async () => {
    const error = await Pkcs11Hsm.open({ library, tokenLabel: 'amulet-test', pin: 'wrong-pin' }).catch(
      (e) => e,
    );
    expect(error.code).toBe('ERR_HSM_PKCS11');
    expect(error.message).not.toContain('wrong-pin');
  });
});

hsmConformance('PKCS#11 (SoftHSM2)', {
  open: () => Pkcs11Hsm.open({ library, tokenLabel: 'amulet-test', pin }),
  unsupported: ['tr31', 'emv-tdes', 'iso9797-alg3', 'ecdh'],
});

describe('two handles on one token', () => {
  it('share the module and the login; closing one leaves the other working', async () => {
    const first = await Pkcs11Hsm.open({ library, tokenLabel: 'amulet-test', pin });
    const second = await Pkcs11Hsm.open({ library, tokenLabel: 'amulet-test', pin });
    const key = await first.generateKey({ keyId: 'shared-mac', algorithm: 'aes', usage: 'mac' });
    await first.close();
    expect((await second.getKey('shared-mac')).kcv).toBe(key.kcv);
    await second.deleteKey('shared-mac');
    await second.close();
  });
});
