import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { luhnValid } from '../src/index.ts';

/**
 * Test-only stand-in for the HSM: envelope encryption with node:crypto. Each PAN is encrypted with
 * AES-256-GCM under a fresh data key; the data key is wrapped with AES-256-GCM under a named
 * key-encryption key; the lookup value is HMAC-SHA-256 under a lookup key. The store sees only these.
 */
export class TestHsm {
  readonly #keks = new Map<string, Buffer>();
  readonly #lookupKey = randomBytes(32);

  kek(id: string): Buffer {
    let key = this.#keks.get(id);
    if (key === undefined) {
      key = randomBytes(32);
      this.#keks.set(id, key);
    }
    return key;
  }

  static seal(key: Buffer, plain: Buffer): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  static open(key: Buffer, sealed: Uint8Array): Buffer {
    const s = Buffer.from(sealed);
    const decipher = createDecipheriv('aes-256-gcm', key, s.subarray(0, 12));
    decipher.setAuthTag(s.subarray(12, 28));
    return Buffer.concat([decipher.update(s.subarray(28)), decipher.final()]);
  }

  lookup(pan: string): Uint8Array {
    return createHmac('sha256', this.#lookupKey).update(pan).digest();
  }

  protect(pan: string, kekId: string) {
    const dataKey = randomBytes(32);
    return {
      panLookup: this.lookup(pan),
      panCiphertext: TestHsm.seal(dataKey, Buffer.from(pan, 'ascii')),
      wrappingKeyId: kekId,
      wrappedDataKey: TestHsm.seal(this.kek(kekId), dataKey),
    };
  }

  reveal(record: { panCiphertext: Uint8Array; wrappingKeyId: string; wrappedDataKey: Uint8Array }): string {
    const dataKey = TestHsm.open(this.kek(record.wrappingKeyId), record.wrappedDataKey);
    return TestHsm.open(dataKey, record.panCiphertext).toString('ascii');
  }

  rewrap(wrapped: Uint8Array, fromKek: string, toKek: string): Buffer {
    return TestHsm.seal(this.kek(toKek), TestHsm.open(this.kek(fromKek), wrapped));
  }
}

function withCheckDigit(body: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(body + d)) return body + d;
  throw new Error('unreachable');
}

/** Every PAN the tests made, so the scanner can look for each of them. */
export const testPans = new Set<string>();

/** A fresh Luhn-valid 16-digit test PAN. */
export function newPan(): string {
  const digits = Array.from(randomBytes(8), (b) => String(b % 10)).join('');
  const pan = withCheckDigit(`4761739${digits}`);
  testPans.add(pan);
  return pan;
}

/** A fresh Luhn-valid 16-digit DPAN from a test token BIN range. */
export function newDpan(): string {
  const digits = Array.from(randomBytes(8), (b) => String(b % 10)).join('');
  return withCheckDigit(`4895370${digits}`);
}

export function newPar(): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return `V001${Array.from(randomBytes(25), (b) => alphabet[b % 36]).join('')}`;
}

export function newTrid(): string {
  return Array.from(randomBytes(11), (b) => String(b % 10)).join('');
}

export const id = (prefix: string): string => `${prefix}-${randomUUID()}`;
