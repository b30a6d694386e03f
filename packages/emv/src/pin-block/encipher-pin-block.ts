import { xor } from '@amulet/bytes';
import { encryptEcb } from '../cipher/index.ts';
import { type ClearPinBlockFormat, encodePinBlock } from './encode-pin-block.ts';
import { encodeFormat4PinField } from './format4-pin-field.ts';
import { encodeFormat4PanField } from './pan-field.ts';
import { PinBlockError } from './pin-block-error.ts';
import { checkFormat } from './pin-field.ts';

/** The formats that are enciphered for transmission: 0, 1, 3 under TDEA, 4 under AES. */
export type EncipheredPinBlockFormat = 0 | 1 | 3 | 4;
export const ENCIPHERED_PIN_BLOCK_FORMATS: readonly EncipheredPinBlockFormat[] = [0, 1, 3, 4];

export interface EncipherPinBlockInput {
  readonly format: EncipheredPinBlockFormat;
  readonly pin: string;
  /** Needed by formats 0, 3 and 4. */
  readonly pan?: string;
  /** A double or triple length TDEA key (formats 0, 1, 3) or an AES key (format 4). */
  readonly key: Uint8Array;
  /** Random bytes for the fill of formats 1, 3 and 4. */
  readonly random?: (length: number) => Uint8Array;
}

/**
 * The block cipher for a format: ISO 9564-1:2017 allows formats 0, 1 and 3 under TDEA (double
 * or triple length keys) and format 4 under AES (9.4); single DES is refused.
 */
export function pinBlockCipher(format: EncipheredPinBlockFormat, key: unknown): 'tdes' | 'aes' {
  const aes = format === 4;
  const lengths = aes ? [16, 24, 32] : [16, 24];
  if (!(key instanceof Uint8Array) || !lengths.includes(key.length)) {
    throw new PinBlockError(
      'ERR_PIN_BLOCK_KEY',
      `PIN block format ${format} needs ${aes ? 'an AES' : 'a TDEA'} key of ${lengths.join(', ')} bytes`,
    );
  }
  return aes ? 'aes' : 'tdes';
}

/**
 * Builds and enciphers a PIN block. Formats 0, 1 and 3: the clear 8-byte block under TDEA-ECB.
 * Format 4 (ISO 9564-1:2017 9.4.2.3): the PIN field is enciphered, XORed with the PAN field and
 * enciphered again under AES, C = E(E(PIN field) XOR PAN field).
 */
export function encipherPinBlock(input: EncipherPinBlockInput): Uint8Array {
  const format = checkFormat(input.format, ENCIPHERED_PIN_BLOCK_FORMATS, 'enciphering');
  const algorithm = pinBlockCipher(format, input.key);
  if (format !== 4) {
    const clear = encodePinBlock({ ...input, format: format as ClearPinBlockFormat });
    return encryptEcb(algorithm, input.key, clear);
  }
  if (input.random === undefined) {
    throw new PinBlockError('ERR_PIN_BLOCK_RANDOM', 'PIN block format 4 needs a random source');
  }
  const panField = encodeFormat4PanField(input.pan as string);
  const pinField = encodeFormat4PinField({ pin: input.pin, random: input.random });
  const intermediate = encryptEcb(algorithm, input.key, pinField);
  return encryptEcb(algorithm, input.key, xor(intermediate, panField));
}
