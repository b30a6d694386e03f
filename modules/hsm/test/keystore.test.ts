import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '@amulet/bytes';
import { describe, expect, it } from 'vitest';
import { type HsmError, masterKeyFromEnv, masterKeyFromFile, SoftwareHsm } from '../src/index.ts';

const directory = mkdtempSync(join(tmpdir(), 'amulet-keystore-'));
const newMasterKey = () => new Uint8Array(randomBytes(32));

async function failure(promise: Promise<unknown>): Promise<HsmError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: HsmError) => error,
  );
}

describe('master key loaders', () => {
  it('reads 64 hex digits from an environment variable, and names only the variable on error', () => {
    const key = newMasterKey();
    expect(toHex(masterKeyFromEnv('HSM_KEY', { HSM_KEY: ` ${toHex(key).toLowerCase()}\n` }))).toBe(
      toHex(key),
    );
    const secret = toHex(key).slice(0, 40);
    let error: HsmError | undefined;
    try {
      masterKeyFromEnv('HSM_KEY', { HSM_KEY: secret });
    } catch (caught) {
      error = caught as HsmError;
    }
    expect(error?.code).toBe('ERR_HSM_MASTER_KEY');
    expect(error?.message).toContain('HSM_KEY');
    expect(error?.message).not.toContain(secret);
    expect(() => masterKeyFromEnv('HSM_KEY', {})).toThrow(/not set/);
  });

  it('reads a file of hex digits or of 32 raw bytes', async () => {
    const key = newMasterKey();
    const hexFile = join(directory, 'master.hex');
    const rawFile = join(directory, 'master.bin');
    writeFileSync(hexFile, `${toHex(key)}\n`);
    writeFileSync(rawFile, key);
    expect(toHex(await masterKeyFromFile(hexFile))).toBe(toHex(key));
    expect(toHex(await masterKeyFromFile(rawFile))).toBe(toHex(key));
    writeFileSync(rawFile, key.subarray(0, 31));
    expect((await failure(masterKeyFromFile(rawFile))).code).toBe('ERR_HSM_MASTER_KEY');
    expect((await failure(masterKeyFromFile(join(directory, 'missing')))).code).toBe('ERR_HSM_MASTER_KEY');
  });
});

describe('software keystore file', () => {
  it('holds no key value in clear and refuses another master key', async () => {
    const path = join(directory, 'sealed.json');
    const masterKey = newMasterKey();
    const hsm = await SoftwareHsm.open({ path, masterKey });
    const value = new Uint8Array(randomBytes(32));
    await hsm.importKeyComponents({
      keyId: 'kek',
      algorithm: 'aes',
      usage: 'data-key-wrap',
      components: [value, new Uint8Array(32)],
    });
    await hsm.close();
    const text = readFileSync(path, 'utf8');
    expect(text.toUpperCase()).not.toContain(toHex(value));
    expect((await failure(SoftwareHsm.open({ path, masterKey: newMasterKey() }))).code).toBe(
      'ERR_HSM_MASTER_KEY_MISMATCH',
    );
    expect((await failure(SoftwareHsm.open({ path, masterKey: masterKey.subarray(0, 16) }))).code).toBe(
      'ERR_HSM_MASTER_KEY',
    );
  });

  it('refuses an entry whose id or attributes were edited (they are the associated data)', async () => {
    const path = join(directory, 'edited.json');
    const masterKey = newMasterKey();
    const hsm = await SoftwareHsm.open({ path, masterKey });
    await hsm.generateKey({ keyId: 'imk', algorithm: 'tdes', usage: 'imk-ac' });
    await hsm.close();
    const original = readFileSync(path, 'utf8');
    for (const edit of [
      original.replace('"exportable": false', '"exportable": true'),
      original.replace('"keyId": "imk"', '"keyId": "imk2"'),
      original.replace('"usage": "imk-ac"', '"usage": "kek"'),
    ]) {
      expect(edit).not.toBe(original);
      writeFileSync(path, edit);
      expect((await failure(SoftwareHsm.open({ path, masterKey }))).code).toBe('ERR_HSM_KEYSTORE_AUTH');
    }
    writeFileSync(path, '{"format":"something else"}');
    expect((await failure(SoftwareHsm.open({ path, masterKey }))).code).toBe('ERR_HSM_KEYSTORE_CORRUPT');
    writeFileSync(path, original);
    const reopened = await SoftwareHsm.open({ path, masterKey });
    expect((await reopened.getKey('imk')).usage).toBe('imk-ac');
    await reopened.close();
    expect((await failure(reopened.getKey('imk'))).code).toBe('ERR_HSM_CLOSED');
  });
});
