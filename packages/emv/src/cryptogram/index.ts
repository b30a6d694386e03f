export {
  type CryptogramInput,
  type CryptogramKeys,
  computeCryptogram,
  cryptogramKeys,
  cryptogramMac,
  verifyCryptogram,
} from './application-cryptogram.ts';
export { arpcMethod1, arpcMethod2 } from './arpc.ts';
export {
  type CryptogramVersion,
  type CryptogramVersionNumber,
  cryptogramVersions,
  findCryptogramVersion,
} from './cryptogram-version.ts';
