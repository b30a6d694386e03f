import { AmuletError } from '@amulet/bytes';

/**
 * A TR-31 / ANSI X9.143 key block, header, key or key block protection key (KBPK) that is
 * refused. Codes: `ERR_TR31_INPUT`, `ERR_TR31_VERSION`, `ERR_TR31_LENGTH`, `ERR_TR31_ENCODING`,
 * `ERR_TR31_HEADER`, `ERR_TR31_OPTIONAL_BLOCK`, `ERR_TR31_KBPK`, `ERR_TR31_KEY`,
 * `ERR_TR31_RANDOM`, `ERR_TR31_KEY_LENGTH`, and `ERR_TR31_MAC`, which is always the one fixed
 * message below. Messages give field names, positions and lengths, never key material.
 */
export class KeyBlockError extends AmuletError {}

/** The only answer to a key block whose MAC does not verify: no detail, whatever the cause. */
export function keyBlockMacError(): KeyBlockError {
  return new KeyBlockError('ERR_TR31_MAC', 'key block authentication failed');
}
