import { xor } from '@amulet/bytes';
import { CLEAR_PIN_BLOCK_FORMATS, type ClearPinBlockFormat, usesAccountNumber } from './encode-pin-block.ts';
import { FILL_RULES } from './fill-rules.ts';
import { accountNumberField, checkPan } from './pan-field.ts';
import { checkBlock, checkFill, checkFormat, readPinField } from './pin-field.ts';

export interface DecodePinBlockInput {
  readonly format: ClearPinBlockFormat;
  /** The 8-byte clear PIN block. */
  readonly block: Uint8Array;
  /** Needed by formats 0 and 3. */
  readonly pan?: string;
}

/**
 * The PIN in a clear ISO 9564-1:2017 format 0, 1, 2 or 3 block, after checking the control
 * field, the PIN length (4 to 12), the PIN digits and every fill nibble.
 */
export function decodePinBlock(input: DecodePinBlockInput): string {
  const format = checkFormat(input.format, CLEAR_PIN_BLOCK_FORMATS, 'a clear PIN block');
  const block = checkBlock(input.block, 8);
  const field = usesAccountNumber(format)
    ? xor(block, accountNumberField(checkPan(input.pan, format)))
    : block;
  const { pin, fill } = readPinField(format, field);
  checkFill(fill, pin.length, FILL_RULES[format].accepts, FILL_RULES[format].description);
  return pin;
}
