import { concat, toHex } from '@amulet/bytes';
import { encryptCbc } from '../cipher/index.ts';
import { cmac } from '../mac/index.ts';
import { checkKbpk } from './check-kbpk.ts';
import { deriveKeyBlockKeys } from './derive-key-block-keys.ts';
import {
  checkKeyBlockHeader,
  formatKeyBlockHeader,
  KEY_BLOCK_LENGTH_MAX,
} from './format-key-block-header.ts';
import { KeyBlockError } from './key-block-error.ts';
import type { KeyBlockHeader } from './key-block-header.ts';
import { KEY_BLOCK_VERSIONS } from './key-block-header.ts';
import { asciiBytes } from './key-block-text.ts';
import { formatOptionalBlock, withPaddingBlock } from './optional-blocks.ts';

export interface WrapKeyBlockInput {
  /** Key block protection key: TDEA (16 or 24 bytes) for version B, AES for version D. */
  readonly kbpk: Uint8Array;
  /** The key to protect. */
  readonly key: Uint8Array;
  /** The header; its PB optional block, if any, is replaced by one of the right size. */
  readonly header: KeyBlockHeader;
  /** Random bytes for the padding after the key. */
  readonly random: (length: number) => Uint8Array;
  /** Pad as if the key had this many bytes, to hide its true length (X9.143 key length masking). */
  readonly maskedKeyLength?: number;
}

function randomPadding(random: unknown, length: number): Uint8Array {
  if (typeof random !== 'function')
    throw new KeyBlockError('ERR_TR31_RANDOM', 'wrapping needs a random source');
  const bytes = (random as (length: number) => unknown)(length);
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new KeyBlockError('ERR_TR31_RANDOM', `the random source must return ${length} bytes`);
  }
  return bytes;
}

/**
 * Wraps a key in a version B or D key block (ANSI X9.143 key derivation binding method):
 * key data = key length in bits (2 bytes) | key | random padding to a whole number of cipher
 * blocks; MAC = CMAC under the derived KBAK over header | key data; the key data is enciphered
 * in CBC mode under the derived KBEK with the MAC as the IV. Versions A and C (the key variant
 * binding method, superseded) are read by `unwrapKeyBlock` but never made.
 */
export function wrapKeyBlock(input: WrapKeyBlockInput): string {
  const header = checkKeyBlockHeader(input.header);
  if (header.version !== 'B' && header.version !== 'D') {
    throw new KeyBlockError(
      'ERR_TR31_VERSION',
      'only key blocks of version B and D are made; A and C are read only',
    );
  }
  const parameters = KEY_BLOCK_VERSIONS[header.version];
  const kbpk = checkKbpk(input.kbpk, parameters);
  const key = input.key;
  if (!(key instanceof Uint8Array) || key.length === 0) {
    throw new KeyBlockError('ERR_TR31_KEY', 'key must be a non-empty Uint8Array');
  }
  if (header.version === 'B' && key.length > kbpk.length) {
    // X9.143: the KBPK must be at least as strong as the key it protects.
    throw new KeyBlockError(
      'ERR_TR31_KEY',
      'a version B key must not be longer than its key block protection key',
    );
  }
  const masked = input.maskedKeyLength ?? key.length;
  if (!Number.isInteger(masked) || masked < key.length) {
    throw new KeyBlockError(
      'ERR_TR31_KEY',
      'masked key length must be a whole number of bytes, at least the key length',
    );
  }
  const size = parameters.blockSize;
  const keyDataLength = Math.ceil((2 + masked) / size) * size;
  const blocks = withPaddingBlock(header.optionalBlocks, size);
  const headerLength = 16 + blocks.reduce((sum, block) => sum + formatOptionalBlock(block).length, 0);
  const total = headerLength + 2 * keyDataLength + 2 * parameters.macLength;
  if (total > KEY_BLOCK_LENGTH_MAX) {
    throw new KeyBlockError(
      'ERR_TR31_LENGTH',
      `the key block would be longer than ${KEY_BLOCK_LENGTH_MAX} characters`,
    );
  }
  const headerText = formatKeyBlockHeader({ ...header, optionalBlocks: blocks }, total);
  const bits = key.length * 8;
  const keyData = concat(
    Uint8Array.of(bits >> 8, bits & 0xff),
    key,
    randomPadding(input.random, keyDataLength - 2 - key.length),
  );
  const keys = deriveKeyBlockKeys(header.version, kbpk);
  const mac = cmac(parameters.cipher, keys.authenticationKey, concat(asciiBytes(headerText), keyData));
  const enciphered = encryptCbc(parameters.cipher, keys.encryptionKey, keyData, mac);
  return headerText + toHex(enciphered) + toHex(mac);
}
