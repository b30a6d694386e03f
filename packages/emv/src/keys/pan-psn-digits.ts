import { CryptoError } from '../cipher/crypto-error.ts';

/** Checks a PAN (12 to 19 digits) and a PAN sequence number (2 digits); messages carry no digits. */
export function checkPanAndPsn(pan: string, psn: string): void {
  if (typeof pan !== 'string' || !/^[0-9]{12,19}$/.test(pan)) {
    throw new CryptoError('ERR_PAN', 'PAN must be 12 to 19 decimal digits');
  }
  if (typeof psn !== 'string' || !/^[0-9]{2}$/.test(psn)) {
    throw new CryptoError('ERR_PSN', 'PAN sequence number must be 2 decimal digits');
  }
}

/** Packs decimal (or hex) digits two to a byte, as numeric EMV data is stored (EMV Book 3 Annex B). */
export function packDigits(digits: string): Uint8Array {
  const even = digits.length % 2 === 0 ? digits : `0${digits}`;
  const out = new Uint8Array(even.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(even.slice(2 * i, 2 * i + 2), 16);
  return out;
}
