import { isLuhnValid, luhnCheckDigit } from '@amulet/emv';
import { maskPan } from '@amulet/iso8583';
import { IssuerError } from './issuer-error.ts';
import { type RandomBytes, randomDigits } from './random-source.ts';

/** A PAN is 13 to 19 digits with a right Luhn check digit (ISO/IEC 7812-1). */
export function isPan(value: string): boolean {
  return /^[0-9]{13,19}$/.test(value) && isLuhnValid(value);
}

export function checkPan(value: string): string {
  if (!isPan(value))
    throw new IssuerError('ERR_ISSUER_INPUT', 'a PAN is 13 to 19 digits with a valid check digit');
  return value;
}

/** A new PAN under `bin`, `length` digits, the body from the random source and a Luhn check digit. */
export function newPan(bin: string, length: number, random: RandomBytes): string {
  if (!/^[0-9]{6,11}$/.test(bin) || length < 13 || length > 19 || bin.length >= length)
    throw new IssuerError('ERR_ISSUER_INPUT', 'a BIN has 6 to 11 digits and a PAN 13 to 19');
  const body = bin + randomDigits(random, length - bin.length - 1);
  return body + luhnCheckDigit(body);
}

/** PCI DSS 3.4: at most the first six and last four digits shown. */
export function maskCardNumber(pan: string): string {
  return maskPan(pan);
}

/** Field 14 and the card's expiry: YYMM. */
export function checkExpiry(value: string): string {
  if (!/^[0-9]{2}(0[1-9]|1[0-2])$/.test(value))
    throw new IssuerError('ERR_ISSUER_INPUT', 'an expiry is YYMM');
  return value;
}

/** A card is valid through the last day of its expiry month (UTC); years are 20YY. */
export function isExpired(expiry: string, now: Date): boolean {
  const year = 2000 + Number(expiry.slice(0, 2));
  const month = Number(expiry.slice(2, 4));
  const firstDayAfter = Date.UTC(year, month, 1); // month is 1-based, so this is the next month
  return now.getTime() >= firstDayAfter;
}

/** The expiry `years` after `now`, as YYMM. */
export function expiryAfter(now: Date, years: number): string {
  const year = (now.getUTCFullYear() + years) % 100;
  const month = now.getUTCMonth() + 1;
  return `${String(year).padStart(2, '0')}${String(month).padStart(2, '0')}`;
}

/** ISO/IEC 7812-1 Annex B, from @amulet/emv. */
export { isLuhnValid as luhnValid };
