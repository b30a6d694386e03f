import { encryptEcb } from '../cipher/block-cipher.ts';
import { CryptoError } from '../cipher/crypto-error.ts';
import { cmac } from '../mac/cmac.ts';
import { macIso9797Algorithm3 } from '../mac/iso9797-mac.ts';

function checkArqc(arqc: Uint8Array): void {
  if (!(arqc instanceof Uint8Array) || arqc.length !== 8)
    throw new CryptoError('ERR_ARQC', 'ARQC must be 8 bytes');
}

/**
 * ARPC method 1 (EMV Book 2 section 8.2.1): ARPC = DES3(K)[ARQC xor (ARC || '00'x6)], where
 * ARC is the 2-byte authorisation response code. K is the ICC master key or the session key,
 * as the cryptogram version requires.
 */
export function arpcMethod1(key: Uint8Array, arqc: Uint8Array, arc: Uint8Array): Uint8Array {
  checkArqc(arqc);
  if (!(arc instanceof Uint8Array) || arc.length !== 2)
    throw new CryptoError('ERR_ARC', 'ARC must be 2 bytes');
  const block = arqc.slice();
  block[0]! ^= arc[0]!;
  block[1]! ^= arc[1]!;
  return encryptEcb('tdes', key, block);
}

/**
 * ARPC method 2 (EMV Book 2 8.2.2): the leftmost 4 bytes of a MAC over
 * ARQC || CSU || proprietary authentication data, under the session key.
 * Triple DES uses ISO/IEC 9797-1 MAC algorithm 3 with padding method 2; AES uses CMAC.
 */
export function arpcMethod2(
  key: Uint8Array,
  arqc: Uint8Array,
  cardStatusUpdate: Uint8Array,
  proprietaryData: Uint8Array = new Uint8Array(0),
  algorithm: 'tdes' | 'aes' = 'tdes',
): Uint8Array {
  checkArqc(arqc);
  if (!(cardStatusUpdate instanceof Uint8Array) || cardStatusUpdate.length !== 4) {
    throw new CryptoError('ERR_CSU', 'card status update must be 4 bytes');
  }
  if (proprietaryData.length > 8)
    throw new CryptoError('ERR_PROPRIETARY_DATA', 'proprietary data is at most 8 bytes');
  const data = new Uint8Array(12 + proprietaryData.length);
  data.set(arqc, 0);
  data.set(cardStatusUpdate, 8);
  data.set(proprietaryData, 12);
  const mac = algorithm === 'aes' ? cmac('aes', key, data) : macIso9797Algorithm3(key, data, 2);
  return mac.slice(0, 4);
}
