// Table-driven block ciphers and a cryptogram verifier built on them, for the hot path where a
// new key per call would make node:crypto create a cipher context each time.
export { aes128EncryptBlock, aes128KeySchedule } from './aes-block.ts';
export {
  type CryptogramVerifier,
  type CryptogramVerifierInput,
  type CryptogramVerifierOptions,
  createCryptogramVerifier,
} from './cryptogram-verifier.ts';
export {
  desDecryptBlock,
  desEncryptBlock,
  desKeySchedule,
  tripleDesDecryptBlock,
  tripleDesEncryptBlock,
  tripleDesKeySchedule,
} from './des-block.ts';
