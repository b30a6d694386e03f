import { createCipheriv, createDecipheriv } from 'node:crypto';
import { CryptoError } from './crypto-error.ts';

/** DES (8-byte key), triple DES (16-byte double or 24-byte triple length key), AES-128/192/256. */
export type BlockCipherAlgorithm = 'des' | 'tdes' | 'aes';

export function blockSize(algorithm: BlockCipherAlgorithm): 8 | 16 {
  return algorithm === 'aes' ? 16 : 8;
}

/**
 * The OpenSSL cipher name and key for an algorithm. OpenSSL 3 keeps single DES in its legacy
 * provider, so single DES runs as triple DES with K1 = K2 = K3, which is the same permutation
 * (ANSI X9.52 keying option 3); a double-length key runs as K1 K2 K1 (keying option 2).
 */
export function cipherSuite(algorithm: BlockCipherAlgorithm, key: Uint8Array, mode: 'ecb' | 'cbc') {
  if (!(key instanceof Uint8Array)) throw new CryptoError('ERR_KEY_TYPE', 'key must be a Uint8Array');
  switch (algorithm) {
    case 'des':
      if (key.length !== 8) throw keyLength(algorithm, key.length, '8');
      return { name: `des-ede3-${mode}`, key: tripled(key, key, key) };
    case 'tdes':
      if (key.length === 16)
        return {
          name: `des-ede3-${mode}`,
          key: tripled(key.subarray(0, 8), key.subarray(8), key.subarray(0, 8)),
        };
      if (key.length === 24) return { name: `des-ede3-${mode}`, key };
      throw keyLength(algorithm, key.length, '16 or 24');
    case 'aes':
      if (key.length !== 16 && key.length !== 24 && key.length !== 32)
        throw keyLength(algorithm, key.length, '16, 24 or 32');
      return { name: `aes-${key.length * 8}-${mode}`, key };
    default:
      throw new CryptoError('ERR_ALGORITHM', 'unknown block cipher algorithm');
  }
}

function tripled(a: Uint8Array, b: Uint8Array, c: Uint8Array): Uint8Array {
  const key = new Uint8Array(24);
  key.set(a, 0);
  key.set(b, 8);
  key.set(c, 16);
  return key;
}

function keyLength(algorithm: string, got: number, want: string): CryptoError {
  return new CryptoError('ERR_KEY_LENGTH', `${algorithm} key must be ${want} bytes, got ${got}`);
}

function checkData(algorithm: BlockCipherAlgorithm, data: Uint8Array): void {
  if (!(data instanceof Uint8Array)) throw new CryptoError('ERR_DATA_TYPE', 'data must be a Uint8Array');
  const size = blockSize(algorithm);
  if (data.length % size !== 0) {
    throw new CryptoError(
      'ERR_DATA_LENGTH',
      `data must be a whole number of ${size}-byte blocks, got ${data.length} bytes`,
    );
  }
}

function checkIv(algorithm: BlockCipherAlgorithm, iv: Uint8Array | undefined): Uint8Array {
  const size = blockSize(algorithm);
  if (iv === undefined) return new Uint8Array(size);
  if (!(iv instanceof Uint8Array) || iv.length !== size) {
    throw new CryptoError('ERR_IV_LENGTH', `initial value must be ${size} bytes`);
  }
  return iv;
}

function run(
  decipher: boolean,
  name: string,
  key: Uint8Array,
  iv: Uint8Array | null,
  data: Uint8Array,
): Uint8Array {
  const context = decipher ? createDecipheriv(name, key, iv) : createCipheriv(name, key, iv);
  context.setAutoPadding(false);
  const head = context.update(data);
  const tail = context.final();
  const out = new Uint8Array(head.length + tail.length);
  out.set(head, 0);
  out.set(tail, head.length);
  return out;
}

/** Electronic codebook encryption of whole blocks, no padding. */
export function encryptEcb(algorithm: BlockCipherAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array {
  const suite = cipherSuite(algorithm, key, 'ecb');
  checkData(algorithm, data);
  return run(false, suite.name, suite.key, null, data);
}

export function decryptEcb(algorithm: BlockCipherAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array {
  const suite = cipherSuite(algorithm, key, 'ecb');
  checkData(algorithm, data);
  return run(true, suite.name, suite.key, null, data);
}

/** Cipher block chaining encryption of whole blocks, no padding; the initial value defaults to zeros. */
export function encryptCbc(
  algorithm: BlockCipherAlgorithm,
  key: Uint8Array,
  data: Uint8Array,
  iv?: Uint8Array,
): Uint8Array {
  const suite = cipherSuite(algorithm, key, 'cbc');
  checkData(algorithm, data);
  return run(false, suite.name, suite.key, checkIv(algorithm, iv), data);
}

export function decryptCbc(
  algorithm: BlockCipherAlgorithm,
  key: Uint8Array,
  data: Uint8Array,
  iv?: Uint8Array,
): Uint8Array {
  const suite = cipherSuite(algorithm, key, 'cbc');
  checkData(algorithm, data);
  return run(true, suite.name, suite.key, checkIv(algorithm, iv), data);
}
