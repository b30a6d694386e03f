import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex, xor } from '@amulet/bytes';
import { expect, it } from 'vitest';
import { Pkcs11Hsm, SoftwareHsm } from '../src/index.ts';

const directory = mkdtempSync(join(tmpdir(), 'amulet-cross-'));
writeFileSync(join(directory, 'softhsm2.conf'), `directories.tokendir = ${directory}\nlog.level = ERROR\n`);
process.env.SOFTHSM2_CONF = join(directory, 'softhsm2.conf');
execFileSync(
  'softhsm2-util',
  ['--init-token', '--free', '--label', 'amulet-cross', '--pin', '1234', '--so-pin', '5678'],
  {
    stdio: 'ignore',
  },
);

it('both backends give one KEK the same check value and open each other’s wrapped data keys', async () => {
  const software = await SoftwareHsm.open({
    path: join(directory, 'keystore.json'),
    masterKey: new Uint8Array(randomBytes(32)),
  });
  const token = await Pkcs11Hsm.open({
    library: '/usr/lib/softhsm/libsofthsm2.so',
    tokenLabel: 'amulet-cross',
    pin: '1234',
  });
  try {
    const kek = new Uint8Array(randomBytes(32));
    const first = new Uint8Array(randomBytes(32));
    const components = [first, xor(first, kek)];
    const input = { keyId: 'kek', algorithm: 'aes', usage: 'data-key-wrap', components } as const;
    const a = await software.importKeyComponents(input);
    const b = await token.importKeyComponents(input);
    expect(b.kcv).toBe(a.kcv);
    const fromSoftware = await software.generateDataKey({ kekId: 'kek' });
    expect(toHex(await token.decryptDataKey({ kekId: 'kek', wrapped: fromSoftware.wrapped }))).toBe(
      toHex(fromSoftware.plaintext),
    );
    const fromToken = await token.generateDataKey({ kekId: 'kek', length: 16 });
    expect(toHex(await software.decryptDataKey({ kekId: 'kek', wrapped: fromToken.wrapped }))).toBe(
      toHex(fromToken.plaintext),
    );
  } finally {
    await software.close();
    await token.close();
  }
});
