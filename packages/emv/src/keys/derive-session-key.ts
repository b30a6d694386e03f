import { encryptEcb } from '../cipher/block-cipher.ts';
import { CryptoError } from '../cipher/crypto-error.ts';
import { adjustDesParity } from '../cipher/des-parity.ts';

function checkAtc(atc: Uint8Array): void {
  if (!(atc instanceof Uint8Array) || atc.length !== 2)
    throw new CryptoError('ERR_ATC', 'ATC must be 2 bytes');
}

/**
 * EMV Common Session Key derivation (EMV Book 2 A1.3.1). R is the diversification value
 * (8 bytes for triple DES, 16 for AES). For triple DES:
 *   SK = DES3(MK)[R0 R1 'F0' R3..R7] || DES3(MK)[R0 R1 '0F' R3..R7], odd parity.
 * For AES the one 16-byte block R0 R1 'F0' R3..R15 gives the key.
 */
export function deriveCommonSessionKey(
  masterKey: Uint8Array,
  r: Uint8Array,
  algorithm: 'tdes' | 'aes' = 'tdes',
): Uint8Array {
  if (algorithm === 'tdes') {
    if (masterKey.length !== 16)
      throw new CryptoError('ERR_KEY_LENGTH', 'a triple DES master key must be 16 bytes');
    if (r.length !== 8) throw new CryptoError('ERR_DIVERSIFIER_LENGTH', 'R must be 8 bytes for triple DES');
    const blocks = new Uint8Array(16);
    blocks.set(r, 0);
    blocks.set(r, 8);
    blocks[2] = 0xf0;
    blocks[10] = 0x0f;
    return adjustDesParity(encryptEcb('tdes', masterKey, blocks));
  }
  if (algorithm === 'aes') {
    if (r.length !== 16) throw new CryptoError('ERR_DIVERSIFIER_LENGTH', 'R must be 16 bytes for AES');
    const block = r.slice();
    block[2] = 0xf0;
    return encryptEcb('aes', masterKey, block);
  }
  throw new CryptoError('ERR_ALGORITHM', 'algorithm must be tdes or aes');
}

/** R = ATC || zeros: the EMV CSK diversifier used by Visa CVN 18 and 22 and the generic method. */
export function atcDiversifier(atc: Uint8Array, algorithm: 'tdes' | 'aes' = 'tdes'): Uint8Array {
  checkAtc(atc);
  const r = new Uint8Array(algorithm === 'aes' ? 16 : 8);
  r.set(atc, 0);
  return r;
}

/** Mastercard SKD (M/Chip 4 and Advance, CVN 16/17): R = ATC || '0000' || UN. */
export function mastercardDiversifier(atc: Uint8Array, unpredictableNumber: Uint8Array): Uint8Array {
  checkAtc(atc);
  if (!(unpredictableNumber instanceof Uint8Array) || unpredictableNumber.length !== 4) {
    throw new CryptoError('ERR_UN', 'unpredictable number must be 4 bytes');
  }
  const r = new Uint8Array(8);
  r.set(atc, 0);
  r.set(unpredictableNumber, 4);
  return r;
}

export type SessionKeyMethod = 'emv-csk' | 'mastercard';

/** The session key for an ATC, by method (the command line's `crypto session-key`). */
export function deriveSessionKey(input: {
  readonly masterKey: Uint8Array;
  readonly atc: Uint8Array;
  readonly method?: SessionKeyMethod;
  readonly unpredictableNumber?: Uint8Array;
  readonly algorithm?: 'tdes' | 'aes';
}): Uint8Array {
  const algorithm = input.algorithm ?? 'tdes';
  if ((input.method ?? 'emv-csk') === 'emv-csk') {
    return deriveCommonSessionKey(input.masterKey, atcDiversifier(input.atc, algorithm), algorithm);
  }
  if (input.unpredictableNumber === undefined) {
    throw new CryptoError('ERR_UN', 'the Mastercard method needs the unpredictable number');
  }
  return deriveCommonSessionKey(
    input.masterKey,
    mastercardDiversifier(input.atc, input.unpredictableNumber),
    'tdes',
  );
}
