import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Signer } from '@amulet/pki';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CertificateAuthority,
  type KeyCurve,
  type Keystore,
  runKeyCeremony,
  SoftwareKeystore,
  SoftwareSigner,
} from '../src/index.ts';
import { deviceCsr, openssl } from './helpers.ts';

/** A keystore that keeps keys in memory and counts signatures: stands in for a PKCS#11 token. */
class MemoryKeystore implements Keystore {
  readonly keys = new Map<string, SoftwareSigner>();
  signatures = 0;
  has(name: string): boolean {
    return this.keys.has(name);
  }
  generate(name: string, curve: KeyCurve): Signer {
    if (this.keys.has(name)) throw new Error('exists');
    this.keys.set(name, SoftwareSigner.generate(curve));
    return this.load(name);
  }
  load(name: string): Signer {
    const key = this.keys.get(name)!;
    return {
      algorithm: key.algorithm,
      publicKeySpki: () => key.publicKeySpki(),
      sign: async (data) => {
        this.signatures++;
        return key.sign(data);
      },
    };
  }
}

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'amulet-keystore-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('CA keys go through the Keystore interface', () => {
  it('a ceremony and an issuance through another keystore write no key files and verify', async () => {
    const dir = freshDir();
    const keystore = new MemoryKeystore();
    const files = await runKeyCeremony({
      dir,
      keystore,
      tenantId: 'acme',
      organization: 'Amulet Test',
      rootCurve: 'P-384',
      now: new Date(),
    });
    expect(files.some((file) => file.endsWith('.key.json'))).toBe(false);
    expect([...keystore.keys.keys()].sort()).toEqual(['device-ca', 'root', 'service-ca']);
    const ca = CertificateAuthority.open({ dir, keystore });
    const before = keystore.signatures;
    const issued = await ca.issue({ profile: 'device', csr: await deviceCsr() });
    expect(keystore.signatures).toBe(before + 1);
    writeFileSync(join(dir, 'dev.pem'), issued.pem);
    expect(
      openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'device-ca.pem', 'dev.pem'], dir).output,
    ).toBe('dev.pem: OK\n');
    expect(openssl(['x509', '-in', 'root.pem', '-noout', '-text'], dir).output).toContain('secp384r1');
  });

  it('without a master key or a keystore, opening refuses', async () => {
    const dir = freshDir();
    const options = { tenantId: 'acme', organization: 'A', rootCurve: 'P-256', now: new Date() } as const;
    await expect(runKeyCeremony({ dir, ...options })).rejects.toThrow(/master key or a keystore/);
    await runKeyCeremony({ dir, keystore: new MemoryKeystore(), ...options });
    expect(() => CertificateAuthority.open({ dir })).toThrow(/master key or a keystore/);
  });
});

describe('the software keystore', () => {
  it('encrypts keys at rest, binds each file to its name and refuses a wrong master key', () => {
    const dir = freshDir();
    const master = new Uint8Array(32).fill(7);
    const store = new SoftwareKeystore(dir, master);
    const signer = store.generate('device-ca', 'P-256');
    const file = readFileSync(join(dir, 'device-ca.key.json'), 'utf8');
    expect(file).not.toContain('PRIVATE KEY');
    expect(store.load('device-ca').publicKeySpki()).toEqual(signer.publicKeySpki());
    expect(() => store.generate('device-ca', 'P-256')).toThrow(/already exists/);
    expect(() => new SoftwareKeystore(dir, new Uint8Array(32)).load('device-ca')).toThrow(
      expect.objectContaining({ code: 'ERR_KEYSTORE_DECRYPT' }),
    );
    writeFileSync(join(dir, 'service-ca.key.json'), file);
    expect(() => store.load('service-ca')).toThrow(expect.objectContaining({ code: 'ERR_KEYSTORE_DECRYPT' }));
    expect(() => store.load('../root')).toThrow(expect.objectContaining({ code: 'ERR_KEYSTORE_KEY' }));
  });
});
