import { isLuhnValid, luhnCheckDigit } from '@amulet/emv';
import { randomBelow, randomBelowMany, type World } from './world.ts';

const PAR_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * A Payment Account Reference (EMVCo PAR specification): 29 upper-case alphanumerics, the first
 * four the BIN Controller identifier, the other 25 unique per account and without meaning.
 */
export function newPar(world: World, binControllerId: string): string {
  if (!/^[0-9A-Z]{4}$/.test(binControllerId)) throw new RangeError('a BIN Controller id has 4 characters');
  let out = binControllerId;
  for (const i of randomBelowMany(world, PAR_ALPHABET.length, 25)) out += PAR_ALPHABET[i];
  return out;
}

/**
 * A DPAN drawn from a token BIN range: the BIN (uniform between the bounds), random account
 * digits, and the Luhn check digit (ISO/IEC 7812-1 Annex B).
 */
export function newDpan(
  world: World,
  range: { binLow: string; binHigh: string; tokenLength: number },
): string {
  const low = BigInt(range.binLow);
  const span = Number(BigInt(range.binHigh) - low + 1n);
  const bin = (low + BigInt(randomBelow(world, span))).toString().padStart(range.binLow.length, '0');
  let body = bin;
  for (const digit of randomBelowMany(world, 10, Math.max(0, range.tokenLength - 1 - bin.length)))
    body += digit;
  return body + luhnCheckDigit(body);
}

/** A card number: 13 to 19 digits that pass the Luhn check. */
export function isPan(value: string): boolean {
  return /^\d{13,19}$/.test(value) && isLuhnValid(value);
}

/** The card network of a PAN by its leading digits (ISO/IEC 7812 IIN ranges of the two brands). */
export function networkOf(pan: string): 'visa' | 'mastercard' | undefined {
  if (pan.startsWith('4')) return 'visa';
  const two = Number(pan.slice(0, 2));
  const four = Number(pan.slice(0, 4));
  if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) return 'mastercard';
  return undefined;
}
