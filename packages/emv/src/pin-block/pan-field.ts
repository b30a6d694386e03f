import { PinBlockError } from './pin-block-error.ts';

// A PAN has at most 19 digits (ISO/IEC 7812-1); Amulet requires at least 12 for PIN blocks.
const PAN_LENGTH_MIN = 12;
const PAN_LENGTH_MAX = 19;

/** Checks a PAN that a PIN block format needs: 12 to 19 decimal digits. */
export function checkPan(pan: unknown, format: number): string {
  if (pan === undefined)
    throw new PinBlockError('ERR_PIN_BLOCK_PAN', `PIN block format ${format} needs the PAN`);
  if (typeof pan !== 'string' || !/^[0-9]*$/.test(pan)) {
    throw new PinBlockError('ERR_PIN_BLOCK_PAN', 'PAN must be decimal digits only');
  }
  if (pan.length < PAN_LENGTH_MIN || pan.length > PAN_LENGTH_MAX) {
    throw new PinBlockError(
      'ERR_PIN_BLOCK_PAN',
      `PAN must be ${PAN_LENGTH_MIN} to ${PAN_LENGTH_MAX} digits, got ${pan.length}`,
    );
  }
  return pan;
}

function packDigits(digits: string, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < digits.length; i++) {
    const value = digits.charCodeAt(i) - 48;
    out[i >> 1]! |= i % 2 === 0 ? value << 4 : value;
  }
  return out;
}

/**
 * ISO 9564-1:2017 9.3.2.3 and 9.3.5.3 (formats 0 and 3): the account number field 0000 | A1..A12, the 12
 * rightmost PAN digits without the check digit, right-justified and zero-padded on the left.
 */
export function accountNumberField(pan: string): Uint8Array {
  const withoutCheckDigit = pan.slice(0, -1);
  const digits = withoutCheckDigit.slice(-12).padStart(12, '0');
  return packDigits(`0000${digits}`, 8);
}

/**
 * ISO 9564-1:2017 9.4.2.2.3 (format 4): the 16-byte plain-text PAN field M | PAN | 0..0, where M is
 * the PAN length minus 12 and the PAN is padded on the right with zeros.
 */
export function encodeFormat4PanField(pan: string): Uint8Array {
  const checked = checkPan(pan, 4);
  return packDigits(`${checked.length - PAN_LENGTH_MIN}${checked}`, 16);
}
