export {
  type BlockCipherAlgorithm,
  blockSize,
  decryptCbc,
  decryptEcb,
  encryptCbc,
  encryptEcb,
} from './block-cipher.ts';
export { CryptoError } from './crypto-error.ts';
export { adjustDesParity, hasOddDesParity } from './des-parity.ts';
