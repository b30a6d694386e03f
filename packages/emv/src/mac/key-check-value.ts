import { encryptEcb } from '../cipher/block-cipher.ts';
import { CryptoError } from '../cipher/crypto-error.ts';
import { cmac } from './cmac.ts';

export interface KeyCheckValueOptions {
  /** Which cipher the key belongs to; default: `tdes` for 8/16/24-byte keys, else `aes`. */
  readonly algorithm?: 'tdes' | 'aes';
  /**
   * `zeros`: encrypt a zero block (ANSI X9.24-1 legacy KCV; TDES default).
   * `cmac`: CMAC of a zero block (ANSI X9.24-1:2017 for AES; AES default).
   * `gp-aes`: encrypt a block of 0x01 bytes (GlobalPlatform Card Specification Amendment D 7.2.2).
   */
  readonly method?: 'zeros' | 'cmac' | 'gp-aes';
  /** Bytes of the result; default 3 (5 for the AES CMAC method). */
  readonly length?: number;
}

/** The key check value: a short fingerprint that identifies a key without revealing it. */
export function keyCheckValue(key: Uint8Array, options: KeyCheckValueOptions = {}): Uint8Array {
  const algorithm = options.algorithm ?? (key.length === 32 ? 'aes' : 'tdes');
  const method = options.method ?? (algorithm === 'aes' ? 'cmac' : 'zeros');
  const size = algorithm === 'aes' ? 16 : 8;
  const length = options.length ?? (method === 'cmac' ? 5 : 3);
  if (!Number.isInteger(length) || length < 1 || length > size) {
    throw new CryptoError('ERR_KCV_LENGTH', `key check value length must be 1 to ${size} bytes`);
  }
  let full: Uint8Array;
  if (method === 'zeros') full = encryptEcb(algorithm, key, new Uint8Array(size));
  else if (method === 'cmac') full = cmac(algorithm, key, new Uint8Array(size));
  else if (method === 'gp-aes') {
    if (algorithm !== 'aes')
      throw new CryptoError('ERR_KCV_METHOD', 'the GlobalPlatform method is for AES keys');
    full = encryptEcb('aes', key, new Uint8Array(16).fill(0x01));
  } else throw new CryptoError('ERR_KCV_METHOD', 'key check value method must be zeros, cmac or gp-aes');
  return full.slice(0, length);
}
