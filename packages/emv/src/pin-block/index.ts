export { type DecipherPinBlockInput, decipherPinBlock } from './decipher-pin-block.ts';
export { type DecodePinBlockInput, decodePinBlock } from './decode-pin-block.ts';
export {
  ENCIPHERED_PIN_BLOCK_FORMATS,
  type EncipheredPinBlockFormat,
  type EncipherPinBlockInput,
  encipherPinBlock,
} from './encipher-pin-block.ts';
export {
  CLEAR_PIN_BLOCK_FORMATS,
  type ClearPinBlockFormat,
  type EncodePinBlockInput,
  encodePinBlock,
} from './encode-pin-block.ts';
export {
  decodeFormat4PinField,
  encodeFormat4PinField,
  type Format4PinFieldInput,
} from './format4-pin-field.ts';
export { encodeFormat4PanField } from './pan-field.ts';
export { PinBlockError } from './pin-block-error.ts';
export type { PinBlockFormat } from './pin-field.ts';
