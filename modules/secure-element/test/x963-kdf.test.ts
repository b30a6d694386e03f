import { readFileSync } from 'node:fs';
import { fromHex, toHex } from '@amulet/bytes';
import { describe, expect, it } from 'vitest';
import { x963Kdf } from '../src/index.ts';

interface Case {
  readonly id: string;
  readonly z: string;
  readonly sharedInfo: string;
  readonly keyData: string;
}
// NIST CAVP vectors with provenance: see the "source" field of the file.
const vectors = JSON.parse(readFileSync(new URL('./vectors/x963-kdf.json', import.meta.url), 'utf8')) as {
  cases: Case[];
};

describe('ANSI X9.63 KDF with SHA-256 (NIST CAVP)', () => {
  for (const c of vectors.cases) {
    it(c.id, () => {
      const keyData = x963Kdf(fromHex(c.z), fromHex(c.sharedInfo), c.keyData.length / 2);
      expect(toHex(keyData)).toBe(c.keyData);
    });
  }

  it('a changed byte of Z or SharedInfo changes the key data', () => {
    const c = vectors.cases[3] as Case;
    const z = fromHex(c.z);
    z[0]! ^= 1;
    expect(toHex(x963Kdf(z, fromHex(c.sharedInfo), 128))).not.toBe(c.keyData);
    const info = fromHex(c.sharedInfo);
    info[15]! ^= 0x80;
    expect(toHex(x963Kdf(fromHex(c.z), info, 128))).not.toBe(c.keyData);
  });

  it('refuses an empty or oversized output length', () => {
    expect(() => x963Kdf(new Uint8Array(32), new Uint8Array(0), 0)).toThrow(/key data/);
    expect(() => x963Kdf(new Uint8Array(32), new Uint8Array(0), 1025)).toThrow(/key data/);
  });
});
