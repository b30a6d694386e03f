import { xor } from '@amulet/bytes';
import { decryptEcb } from '../cipher/index.ts';
import { decodePinBlock } from './decode-pin-block.ts';
import {
  ENCIPHERED_PIN_BLOCK_FORMATS,
  type EncipheredPinBlockFormat,
  pinBlockCipher,
} from './encipher-pin-block.ts';
import { decodeFormat4PinField } from './format4-pin-field.ts';
import { encodeFormat4PanField } from './pan-field.ts';
import { checkBlock, checkFormat } from './pin-field.ts';

export interface DecipherPinBlockInput {
  readonly format: EncipheredPinBlockFormat;
  /** The enciphered block: 8 bytes for formats 0, 1, 3; 16 bytes for format 4. */
  readonly block: Uint8Array;
  /** Needed by formats 0, 3 and 4. */
  readonly pan?: string;
  readonly key: Uint8Array;
}

/**
 * Deciphers a PIN block and returns the PIN after the full checks of its format. Format 4
 * (ISO 9564-1:2017 9.4.2.4) reverses the encipherment: PIN field = D(D(C) XOR PAN field).
 */
export function decipherPinBlock(input: DecipherPinBlockInput): string {
  const format = checkFormat(input.format, ENCIPHERED_PIN_BLOCK_FORMATS, 'deciphering');
  const algorithm = pinBlockCipher(format, input.key);
  if (format !== 4) {
    const clear = decryptEcb(algorithm, input.key, checkBlock(input.block, 8));
    return decodePinBlock({ format, block: clear, ...(input.pan === undefined ? {} : { pan: input.pan }) });
  }
  const block = checkBlock(input.block, 16);
  const panField = encodeFormat4PanField(input.pan as string);
  const intermediate = xor(decryptEcb(algorithm, input.key, block), panField);
  return decodeFormat4PinField(decryptEcb(algorithm, input.key, intermediate));
}
