import { createHash } from 'node:crypto';
import { encryptEcb } from '../cipher/block-cipher.ts';
import { CryptoError } from '../cipher/crypto-error.ts';
import { adjustDesParity } from '../cipher/des-parity.ts';
import { checkPanAndPsn, packDigits } from './pan-psn-digits.ts';

export type IccKeyDerivationOption = 'a' | 'b';

export interface DeriveIccMasterKeyInput {
  /** Issuer master key: 16 bytes of double-length triple DES, or an AES key with `algorithm: 'aes'`. */
  readonly imk: Uint8Array;
  readonly pan: string;
  readonly psn: string;
  readonly option?: IccKeyDerivationOption;
  readonly algorithm?: 'tdes' | 'aes';
}

/**
 * EMV Book 2 A1.4.1 (Option A): Y is the rightmost 16 digits of PAN || PSN (left-padded with
 * zeros), packed into 8 bytes.
 * EMV Book 2 A1.4.2 (Option B): for a PAN of more than 16 digits, Y is 16 decimal digits taken
 * from SHA-1(PAN || PSN); for 16 digits or fewer Option B is Option A.
 */
export function derivationInput(pan: string, psn: string, option: IccKeyDerivationOption): Uint8Array {
  checkPanAndPsn(pan, psn);
  const digits = pan + psn;
  if (option === 'a' || pan.length <= 16) return packDigits(digits.slice(-16).padStart(16, '0'));
  if (option !== 'b') throw new CryptoError('ERR_DERIVATION_OPTION', 'derivation option must be a or b');
  // A1.4.2 step 1-2: hash the packed digits (a leading zero nibble when their count is odd).
  const hash = createHash('sha1').update(packDigits(digits)).digest('hex').toUpperCase();
  // Step 3: decimalise: the decimal digits in order, then the letters A-F mapped to 0-5.
  let decimal = '';
  for (const c of hash) if (c <= '9') decimal += c;
  for (const c of hash) if (decimal.length < 16 && c > '9') decimal += String(c.charCodeAt(0) - 65);
  return packDigits(decimal.slice(0, 16));
}

/** The ICC master key for one card, derived from the issuer master key (EMV Book 2 A1.4). */
export function deriveIccMasterKey(input: DeriveIccMasterKeyInput): Uint8Array {
  const algorithm = input.algorithm ?? 'tdes';
  const y = derivationInput(input.pan, input.psn, input.option ?? 'a');
  const block = new Uint8Array(16);
  block.set(y, 0);
  for (let i = 0; i < 8; i++) block[8 + i] = y[i]! ^ 0xff;
  if (algorithm === 'tdes') {
    if (input.imk.length !== 16)
      throw new CryptoError('ERR_KEY_LENGTH', 'a triple DES issuer master key must be 16 bytes');
    // ZL = DES3(IMK)[Y], ZR = DES3(IMK)[Y xor FF..FF]; the key is ZL || ZR with odd parity.
    return adjustDesParity(encryptEcb('tdes', input.imk, block));
  }
  if (algorithm === 'aes') {
    if (input.imk.length !== 16)
      throw new CryptoError('ERR_KEY_LENGTH', 'an AES issuer master key must be 16 bytes here');
    // With a 16-byte block, Y || (Y xor FF..FF) is one block: MK = AES(IMK)[Y || Y'].
    return encryptEcb('aes', input.imk, block);
  }
  throw new CryptoError('ERR_ALGORITHM', 'algorithm must be tdes or aes');
}
