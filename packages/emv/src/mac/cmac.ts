import { createCipheriv } from 'node:crypto';
import { blockSize, cipherSuite } from '../cipher/block-cipher.ts';
import { CryptoError } from '../cipher/crypto-error.ts';

/** NIST SP 800-38B 6.1: K1 = double(L), K2 = double(K1), with Rb = 0x87 (128-bit) or 0x1B (64-bit). */
function double(block: Uint8Array): Uint8Array {
  const out = new Uint8Array(block.length);
  let carry = 0;
  for (let i = block.length - 1; i >= 0; i--) {
    const byte = block[i]!;
    out[i] = ((byte << 1) | carry) & 0xff;
    carry = byte >> 7;
  }
  if (carry) out[out.length - 1]! ^= block.length === 16 ? 0x87 : 0x1b;
  return out;
}

/** A CMAC under one key: `macLength` truncates to the leftmost bytes (SP 800-38B 6.2 step 7). */
export type PreparedCmac = (data: Uint8Array, macLength?: number) => Uint8Array;

/**
 * Cipher-based MAC (NIST SP 800-38B) over AES or triple DES, prepared once for a key: the
 * subkeys K1 and K2 (SP 800-38B 6.1) and one ECB context, which enciphers each block of the CBC
 * chain in turn (ECB without padding carries nothing from one block to the next). A MAC then
 * costs its block operations and no cipher set-up: for a 10-byte message under an AES-256 key,
 * about 1.7 µs against 4.7 µs for a one-shot `cmac` on the development machine (bench:crypto).
 */
export function createCmac(algorithm: 'aes' | 'tdes', key: Uint8Array): PreparedCmac {
  if (algorithm !== 'aes' && algorithm !== 'tdes')
    throw new CryptoError('ERR_ALGORITHM', 'CMAC is defined here for aes and tdes');
  const size = blockSize(algorithm);
  const suite = cipherSuite(algorithm, key, 'ecb');
  const ecb = createCipheriv(suite.name, suite.key, null).setAutoPadding(false);
  const subkey1 = double(new Uint8Array(ecb.update(new Uint8Array(size))));
  const subkey2 = double(subkey1);
  const block = new Uint8Array(size);
  return (data, macLength) => {
    if (!(data instanceof Uint8Array)) throw new CryptoError('ERR_DATA_TYPE', 'data must be a Uint8Array');
    const length = macLength ?? size;
    if (!Number.isInteger(length) || length < 1 || length > size) {
      throw new CryptoError('ERR_MAC_LENGTH', `CMAC length must be 1 to ${size} bytes`);
    }
    // SP 800-38B 6.2: a complete last block takes K1; a partial one is padded 10* and takes K2.
    const complete = data.length > 0 && data.length % size === 0;
    const blocks = complete ? data.length / size : Math.floor(data.length / size) + 1;
    const subkey = complete ? subkey1 : subkey2;
    let chain: Uint8Array = new Uint8Array(size);
    for (let b = 0, at = 0; b < blocks; b++) {
      const last = b === blocks - 1;
      for (let i = 0; i < size; i++, at++) {
        const byte = at < data.length ? data[at]! : at === data.length ? 0x80 : 0;
        block[i] = byte ^ chain[i]! ^ (last ? subkey[i]! : 0);
      }
      chain = ecb.update(block);
    }
    return new Uint8Array(chain.subarray(0, length));
  };
}

/** A one-shot CMAC (NIST SP 800-38B): `createCmac(algorithm, key)(data, macLength)`. */
export function cmac(
  algorithm: 'aes' | 'tdes',
  key: Uint8Array,
  data: Uint8Array,
  macLength?: number,
): Uint8Array {
  return createCmac(algorithm, key)(data, macLength);
}
