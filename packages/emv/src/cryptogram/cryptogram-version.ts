import { CryptoError } from '../cipher/crypto-error.ts';

/**
 * How each cryptogram version number (CVN) makes its application cryptogram, as data:
 * the block cipher, the session key method, the MAC padding, and which key ARPC method 1 uses.
 * Sources: EMV Book 2 A1.2 and A1.3 (generic), Visa VIS 1.5/1.6 (CVN 10, 18, 22),
 * Mastercard M/Chip 4 and M/Chip Advance (CVN 16, 17).
 */
export interface CryptogramVersion {
  readonly cvn: CryptogramVersionNumber;
  readonly algorithm: 'tdes' | 'aes';
  /** `none`: the ICC master key itself; `emv-csk`: R = ATC || zeros; `mastercard`: R = ATC || 0000 || UN. */
  readonly sessionKey: 'none' | 'emv-csk' | 'mastercard';
  /** ISO/IEC 9797-1 padding for the triple DES MAC (AES uses CMAC). */
  readonly padding: 1 | 2;
  readonly description: string;
}

export type CryptogramVersionNumber = 10 | 18 | 22 | 16 | 17 | 'emv-tdes' | 'emv-aes';

export const cryptogramVersions: readonly CryptogramVersion[] = [
  {
    cvn: 10,
    algorithm: 'tdes',
    sessionKey: 'none',
    padding: 1,
    description: 'Visa CVN 10: the ICC master key, zero padding',
  },
  {
    cvn: 18,
    algorithm: 'tdes',
    sessionKey: 'emv-csk',
    padding: 2,
    description: 'Visa CVN 18: EMV session key, R = ATC || zeros',
  },
  {
    cvn: 22,
    algorithm: 'aes',
    sessionKey: 'emv-csk',
    padding: 2,
    description: 'Visa CVN 22: AES, EMV session key, CMAC',
  },
  {
    cvn: 16,
    algorithm: 'tdes',
    sessionKey: 'mastercard',
    padding: 2,
    description: 'Mastercard CVN 16: SKD, R = ATC || 0000 || UN',
  },
  {
    cvn: 17,
    algorithm: 'tdes',
    sessionKey: 'mastercard',
    padding: 2,
    description: 'Mastercard CVN 17: SKD, R = ATC || 0000 || UN',
  },
  {
    cvn: 'emv-tdes',
    algorithm: 'tdes',
    sessionKey: 'emv-csk',
    padding: 2,
    description: 'EMV Book 2 A1.2.1, triple DES',
  },
  {
    cvn: 'emv-aes',
    algorithm: 'aes',
    sessionKey: 'emv-csk',
    padding: 2,
    description: 'EMV Book 2 A1.2.2, AES CMAC',
  },
];

export function findCryptogramVersion(cvn: CryptogramVersionNumber | number | string): CryptogramVersion {
  const key = typeof cvn === 'string' && /^[0-9]+$/.test(cvn) ? Number(cvn) : cvn;
  const found = cryptogramVersions.find((version) => version.cvn === key);
  if (found === undefined) throw new CryptoError('ERR_CVN', 'unsupported cryptogram version number');
  return found;
}
