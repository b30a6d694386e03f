import { decryptEcb, encryptCbc, encryptEcb } from '../cipher/block-cipher.ts';
import { CryptoError } from '../cipher/crypto-error.ts';
import { type Iso9797Padding, padIso9797 } from './pad-iso9797.ts';

/**
 * ISO/IEC 9797-1 MAC algorithm 1: CBC-MAC with a zero initial value; the MAC is the last block.
 * The key is a single DES key (8 bytes) or a triple DES key (16 or 24 bytes).
 */
export function macIso9797Algorithm1(key: Uint8Array, data: Uint8Array, padding: Iso9797Padding): Uint8Array {
  const algorithm = key.length === 8 ? 'des' : 'tdes';
  const chained = encryptCbc(algorithm, key, padIso9797(data, padding, 8));
  return chained.slice(chained.length - 8);
}

/**
 * ISO/IEC 9797-1 MAC algorithm 3 (the "retail MAC", ANSI X9.19): single DES CBC under K over
 * every block, then the last block is decrypted under K' and encrypted under K again.
 * The key is K || K', two 8-byte DES keys. Variants that use 16-byte sub-keys are not this
 * algorithm and are refused.
 */
export function macIso9797Algorithm3(key: Uint8Array, data: Uint8Array, padding: Iso9797Padding): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== 16) {
    throw new CryptoError(
      'ERR_KEY_LENGTH',
      `MAC algorithm 3 needs a 16-byte key (K and K'), got ${key?.length ?? 0}`,
    );
  }
  const k = key.subarray(0, 8);
  const kPrime = key.subarray(8, 16);
  const chained = encryptCbc('des', k, padIso9797(data, padding, 8));
  const last = chained.subarray(chained.length - 8);
  // ISO/IEC 9797-1:2011 7.3, output transformation 3.
  return encryptEcb('des', k, decryptEcb('des', kPrime, last));
}
