import { xor } from '@amulet/bytes';
import { FILL_RULES } from './fill-rules.ts';
import { accountNumberField, checkPan } from './pan-field.ts';
import { buildPinField, checkFormat, checkPin, fillCount } from './pin-field.ts';

/** The formats with an 8-byte clear PIN block (format 4 has a PIN field and a PAN field). */
export type ClearPinBlockFormat = 0 | 1 | 2 | 3;
export const CLEAR_PIN_BLOCK_FORMATS: readonly ClearPinBlockFormat[] = [0, 1, 2, 3];

export interface EncodePinBlockInput {
  readonly format: ClearPinBlockFormat;
  readonly pin: string;
  /** Needed by formats 0 and 3; formats 1 and 2 do not use it. */
  readonly pan?: string;
  /** Random bytes for the fill of formats 1 and 3. */
  readonly random?: (length: number) => Uint8Array;
}

/** Formats 0 and 3 are the PIN field XOR the account number field (ISO 9564-1:2017 9.3.2.1, 9.3.5.1). */
export function usesAccountNumber(format: ClearPinBlockFormat): boolean {
  return format === 0 || format === 3;
}

/**
 * The 8-byte clear PIN block of ISO 9564-1:2017 format 0, 1, 2 or 3. For format 4 use
 * `encodeFormat4PinField` and `encodeFormat4PanField`, or `encipherPinBlock`.
 */
export function encodePinBlock(input: EncodePinBlockInput): Uint8Array {
  const format = checkFormat(input.format, CLEAR_PIN_BLOCK_FORMATS, 'a clear PIN block');
  const pin = checkPin(input.pin);
  const pan = usesAccountNumber(format) ? checkPan(input.pan, format) : undefined;
  const field = buildPinField(format, pin, FILL_RULES[format].make(fillCount(pin.length), input.random));
  return pan === undefined ? field : xor(field, accountNumberField(pan));
}
