import { createCipheriv, createDecipheriv } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { SecureElementError } from './secure-element-error.ts';

/**
 * Where the sealed blob lives: untrusted storage (flash, a file). Anyone may read, change or
 * put back an old copy of it; the seal and the monotonic counter detect all three.
 */
export interface BlobStore {
  read(): Uint8Array | undefined;
  write(blob: Uint8Array): void;
}

/**
 * A counter that only goes up and survives power loss, kept where the blob's attacker cannot
 * write (a real SE's one-time-programmable or replay-protected memory).
 */
export interface MonotonicCounter {
  read(): number;
  /** Raises the counter to `value`; lowering it is refused. */
  advance(value: number): void;
}

export function memoryBlobStore(): BlobStore & { blob: Uint8Array | undefined } {
  const store = {
    blob: undefined as Uint8Array | undefined,
    read: () => (store.blob === undefined ? undefined : store.blob.slice()),
    write: (blob: Uint8Array) => {
      store.blob = blob.slice();
    },
  };
  return store;
}

/** A blob in one file, replaced atomically (write to a sibling, then rename). */
export function fileBlobStore(path: string): BlobStore {
  return {
    read() {
      try {
        return new Uint8Array(readFileSync(path));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    write(blob) {
      writeFileSync(`${path}.new`, blob);
      renameSync(`${path}.new`, path);
    },
  };
}

export function memoryCounter(initial = 0): MonotonicCounter {
  let value = initial;
  return {
    read: () => value,
    advance(next) {
      if (!Number.isSafeInteger(next) || next < value)
        throw new SecureElementError('ERR_SE_COUNTER', 'a monotonic counter cannot go down');
      value = next;
    },
  };
}

/** A counter in a file: for a simulator only (a real one is outside the blob's reach). */
export function fileCounter(path: string): MonotonicCounter {
  const read = (): number => {
    try {
      const value = Number(readFileSync(path, 'utf8'));
      return Number.isSafeInteger(value) && value >= 0 ? value : 0;
    } catch {
      return 0;
    }
  };
  return {
    read,
    advance(next) {
      if (!Number.isSafeInteger(next) || next < read())
        throw new SecureElementError('ERR_SE_COUNTER', 'a monotonic counter cannot go down');
      writeFileSync(`${path}.new`, String(next));
      renameSync(`${path}.new`, path);
    },
  };
}

const MAGIC = new Uint8Array([0x41, 0x4d, 0x53, 0x45]); // 'AMSE'
const HEADER = 4 + 4 + 12; // magic, version, nonce
const TAG = 16;

/**
 * Seals a state: AES-256-GCM under the device-unique key (NIST SP 800-38D), the header
 * (magic and version) as additional data, so the version cannot be changed without detection.
 * Layout: 'AMSE' || version (4 bytes, big-endian) || nonce (12) || ciphertext || tag (16).
 */
export function seal(key: Uint8Array, version: number, plaintext: Uint8Array, nonce: Uint8Array): Uint8Array {
  if (key.length !== 32) throw new SecureElementError('ERR_SE_KEY', 'the device key must be 32 bytes');
  if (nonce.length !== 12) throw new SecureElementError('ERR_SE_NONCE', 'the nonce must be 12 bytes');
  const header = new Uint8Array(HEADER);
  header.set(MAGIC, 0);
  new DataView(header.buffer).setUint32(4, version);
  header.set(nonce, 8);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(header);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  const out = new Uint8Array(HEADER + body.length);
  out.set(header, 0);
  out.set(body, HEADER);
  return out;
}

/** Opens a sealed blob; any change to any byte throws `ERR_SE_TAMPER`. */
export function unseal(key: Uint8Array, blob: Uint8Array): { version: number; plaintext: Uint8Array } {
  if (blob.length < HEADER + TAG || !MAGIC.every((b, i) => blob[i] === b))
    throw new SecureElementError('ERR_SE_TAMPER', 'sealed storage is not in the sealed format');
  const header = blob.subarray(0, HEADER);
  const version = new DataView(blob.buffer, blob.byteOffset).getUint32(4);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(8, HEADER));
    decipher.setAAD(header);
    decipher.setAuthTag(blob.subarray(blob.length - TAG));
    const plain = Buffer.concat([
      decipher.update(blob.subarray(HEADER, blob.length - TAG)),
      decipher.final(),
    ]);
    return { version, plaintext: new Uint8Array(plain) };
  } catch (cause) {
    throw new SecureElementError('ERR_SE_TAMPER', 'sealed storage failed authentication', { cause });
  }
}
