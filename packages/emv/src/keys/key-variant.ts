import { CryptoError } from '../cipher/crypto-error.ts';

/**
 * A key variant in the style of payment HSMs: variant number v (0-31) times 8 is XORed into the
 * first byte of each 8-byte DES key part, so one key yields distinct keys per use.
 */
export function applyKeyVariant(key: Uint8Array, variant: number): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length === 0 || key.length % 8 !== 0) {
    throw new CryptoError('ERR_KEY_LENGTH', 'a DES key must be a non-empty multiple of 8 bytes');
  }
  if (!Number.isInteger(variant) || variant < 0 || variant > 31) {
    throw new CryptoError('ERR_KEY_VARIANT', 'key variant must be 0 to 31');
  }
  const out = key.slice();
  for (let part = 0; part < out.length; part += 8) out[part]! ^= variant * 8;
  return out;
}
