import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HsmError, HsmVerificationError, SoftwareHsm } from '../src/index.ts';

const directory = mkdtempSync(join(tmpdir(), 'amulet-hsm-properties-'));
const masterKey = new Uint8Array(randomBytes(32));
const path = join(directory, 'keystore.json');
let hsm: SoftwareHsm;

beforeAll(async () => {
  hsm = await SoftwareHsm.open({ path, masterKey });
  await hsm.generateKey({ keyId: 'mac-tdes', algorithm: 'tdes', usage: 'mac' });
  await hsm.generateKey({ keyId: 'mac-aes', algorithm: 'aes', usage: 'mac' });
});
afterAll(async () => {
  await hsm.close();
});

describe('MAC properties', () => {
  it('a MAC verifies on its data and fails, with the fixed error, on any changed bit', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.constantFrom(
          { keyId: 'mac-tdes', algorithm: 'iso9797-alg3' } as const,
          { keyId: 'mac-tdes', algorithm: 'cmac' } as const,
          { keyId: 'mac-aes', algorithm: 'cmac' } as const,
        ),
        fc.nat(),
        async (data, key, bit) => {
          const mac = await hsm.generateMac({ ...key, data });
          await hsm.verifyMac({ ...key, data, mac });
          const changed = data.slice();
          const position = bit % (changed.length * 8);
          changed[position >> 3]! ^= 1 << (position & 7);
          const error = await hsm.verifyMac({ ...key, data: changed, mac }).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(HsmVerificationError);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('keystore file never crashes on a damaged file', () => {
  it('any byte changed or cut: the open succeeds or throws an HsmError', async () => {
    await hsm.generateKey({ keyId: 'sign', algorithm: 'ec-p256', usage: 'signing' });
    const original = readFileSync(path);
    const damaged = join(directory, 'damaged.json');
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.boolean(),
        async (position, value, cut) => {
          const at = position % original.length;
          const bytes = cut ? original.subarray(0, at) : Buffer.from(original);
          if (!cut) bytes[at] = value;
          writeFileSync(damaged, bytes);
          try {
            const opened = await SoftwareHsm.open({ path: damaged, masterKey });
            await opened.close();
          } catch (error) {
            expect(error).toBeInstanceOf(HsmError);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
