import { createHash } from 'node:crypto';
import { SecureElementError } from './secure-element-error.ts';

/** The most key data one derivation may ask for; SCP11 needs 5 x 16 bytes. */
export const X963_KEY_DATA_BYTES_MAX = 1024;

/**
 * The ANSI X9.63 key derivation function with SHA-256 (ANSI X9.63-2001 section 5.6.3, also SEC 1
 * v2 section 3.6.1), as GlobalPlatform Amendment F section 6.5.2.3 uses it for SCP11:
 * K = Hash(Z || counter_1) || Hash(Z || counter_2) || ..., counter a 32-bit big-endian integer
 * from 1, SharedInfo appended to each hash input, cut to `length` bytes.
 */
export function x963Kdf(z: Uint8Array, sharedInfo: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 1 || length > X963_KEY_DATA_BYTES_MAX)
    throw new SecureElementError(
      'ERR_SE_KDF_LENGTH',
      `key data must be 1 to ${X963_KEY_DATA_BYTES_MAX} bytes`,
    );
  const out = new Uint8Array(Math.ceil(length / 32) * 32);
  const counter = new Uint8Array(4);
  for (let i = 1, offset = 0; offset < length; i++, offset += 32) {
    new DataView(counter.buffer).setUint32(0, i);
    out.set(createHash('sha256').update(z).update(counter).update(sharedInfo).digest(), offset);
  }
  return out.slice(0, length);
}
