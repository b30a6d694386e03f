import { CryptoError } from '../cipher/crypto-error.ts';

// EMV Book 2 A1.4.1 (Option A) without building strings: Y, the rightmost 16 digits of
// PAN || PSN left-padded with zeros, packed two digits to a byte, as two big-endian words.

/** [0] = Y bytes 0-3, [1] = Y bytes 4-7, after `derivationWords`. */
export const derivationY = new Int32Array(2);

const ZERO = 48;

function digitAt(text: string, index: number): number {
  const digit = text.charCodeAt(index) - ZERO;
  return digit >= 0 && digit <= 9 ? digit : -1;
}

/** Checks the PAN (12 to 19 digits) and PSN (2 digits) and packs Y into `derivationY`. */
export function derivationWords(pan: string, psn: string): void {
  if (typeof pan !== 'string' || pan.length < 12 || pan.length > 19) {
    throw new CryptoError('ERR_PAN', 'PAN must be 12 to 19 decimal digits');
  }
  if (typeof psn !== 'string' || psn.length !== 2 || digitAt(psn, 0) < 0 || digitAt(psn, 1) < 0) {
    throw new CryptoError('ERR_PSN', 'PAN sequence number must be 2 decimal digits');
  }
  let invalid = 0;
  let hi = 0;
  let lo = digitAt(psn, 1) | (digitAt(psn, 0) << 4);
  // Nibble k from the right: the PSN is nibbles 0-1, the PAN's last digit is nibble 2.
  for (let i = pan.length - 1, k = 2; i >= 0; i--, k++) {
    const digit = digitAt(pan, i);
    invalid |= digit;
    if (k < 8) lo |= digit << (4 * k);
    else if (k < 16) hi |= digit << (4 * (k - 8));
  }
  if (invalid < 0) throw new CryptoError('ERR_PAN', 'PAN must be 12 to 19 decimal digits');
  derivationY[0] = hi;
  derivationY[1] = lo;
}
