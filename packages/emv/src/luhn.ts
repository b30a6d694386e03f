import { AmuletError } from '@amulet/bytes';

/** Input to the Luhn functions that is not a non-empty string of decimal digits. */
export class LuhnError extends AmuletError {}

function checkDigits(text: string, name: string): void {
  if (typeof text !== 'string') throw new LuhnError('ERR_LUHN_INPUT', `${name} must be a string`);
  if (text.length === 0) throw new LuhnError('ERR_LUHN_INPUT', `${name} must not be empty`);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) {
      throw new LuhnError('ERR_LUHN_INPUT', `${name} has a non-digit at position ${i}`, { offset: i });
    }
  }
}

/**
 * ISO/IEC 7812-1 Annex B (Luhn, modulus 10): the sum of the digits, every second digit counted
 * from the right doubled (with 10..18 counted as 1..9). `doubleFirst` says whether the rightmost
 * digit is one of the doubled ones, which it is when a check digit is still to be appended.
 */
function luhnSum(digits: string, doubleFirst: boolean): number {
  let sum = 0;
  let double = doubleFirst;
  for (let i = digits.length - 1; i >= 0; i--) {
    let digit = digits.charCodeAt(i) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum;
}

/** The check digit to append to `digits` (for example a PAN without its last digit). */
export function luhnCheckDigit(digits: string): string {
  checkDigits(digits, 'digits');
  return String((10 - (luhnSum(digits, true) % 10)) % 10);
}

/** True when the last digit of `number` is its Luhn check digit. */
export function isLuhnValid(number: string): boolean {
  checkDigits(number, 'number');
  return luhnSum(number, false) % 10 === 0;
}
