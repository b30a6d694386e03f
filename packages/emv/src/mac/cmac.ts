import { blockSize, encryptCbc, encryptEcb } from '../cipher/block-cipher.ts';
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

/**
 * Cipher-based MAC (NIST SP 800-38B) over AES or triple DES. `macLength` truncates to the
 * leftmost bytes (SP 800-38B 6.2 step 7).
 */
export function cmac(
  algorithm: 'aes' | 'tdes',
  key: Uint8Array,
  data: Uint8Array,
  macLength?: number,
): Uint8Array {
  if (algorithm !== 'aes' && algorithm !== 'tdes')
    throw new CryptoError('ERR_ALGORITHM', 'CMAC is defined here for aes and tdes');
  if (!(data instanceof Uint8Array)) throw new CryptoError('ERR_DATA_TYPE', 'data must be a Uint8Array');
  const size = blockSize(algorithm);
  const length = macLength ?? size;
  if (!Number.isInteger(length) || length < 1 || length > size) {
    throw new CryptoError('ERR_MAC_LENGTH', `CMAC length must be 1 to ${size} bytes`);
  }
  const subkey1 = double(encryptEcb(algorithm, key, new Uint8Array(size)));
  const complete = data.length > 0 && data.length % size === 0;
  const blocks = complete ? data.length / size : Math.floor(data.length / size) + 1;
  const message = new Uint8Array(blocks * size);
  message.set(data);
  const lastStart = (blocks - 1) * size;
  const subkey = complete ? subkey1 : double(subkey1);
  if (!complete) message[data.length] = 0x80;
  for (let i = 0; i < size; i++) message[lastStart + i]! ^= subkey[i]!;
  const chained = encryptCbc(algorithm, key, message);
  return chained.slice(lastStart, lastStart + length);
}
