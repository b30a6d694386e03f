import { concat } from '@amulet/bytes';
import { FILL_RULES } from './fill-rules.ts';
import {
  buildPinField,
  checkBlock,
  checkFill,
  checkPin,
  drawRandom,
  fillCount,
  readPinField,
} from './pin-field.ts';

export interface Format4PinFieldInput {
  readonly pin: string;
  /** Random bytes for the second half of the field. */
  readonly random: (length: number) => Uint8Array;
}

/**
 * ISO 9564-1:2017 9.4.2.2.2: the 16-byte plain-text PIN field of format 4, 4 | N | PIN | A..A in
 * the first 8 bytes and 8 random bytes after them.
 */
export function encodeFormat4PinField(input: Format4PinFieldInput): Uint8Array {
  const pin = checkPin(input.pin);
  const first = buildPinField(4, pin, FILL_RULES[4].make(fillCount(pin.length), undefined));
  return concat(first, drawRandom(input.random, 8, 4));
}

/** The PIN in a format 4 plain-text PIN field, after checking its first half; the random half is free. */
export function decodeFormat4PinField(field: Uint8Array): string {
  const { pin, fill } = readPinField(4, checkBlock(field, 16).subarray(0, 8));
  checkFill(fill, pin.length, FILL_RULES[4].accepts, FILL_RULES[4].description);
  return pin;
}
