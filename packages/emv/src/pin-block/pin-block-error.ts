import { AmuletError } from '@amulet/bytes';

/**
 * A PIN, PAN, PIN block, key or random source that ISO 9564-1 does not allow. Codes:
 * `ERR_PIN_BLOCK_FORMAT` (unknown format, or a control field that does not match it),
 * `ERR_PIN_LENGTH`, `ERR_PIN_DIGIT`, `ERR_PIN_BLOCK_FILL`, `ERR_PIN_BLOCK_LENGTH`,
 * `ERR_PIN_BLOCK_PAN`, `ERR_PIN_BLOCK_KEY`, `ERR_PIN_BLOCK_RANDOM`. Messages name fields,
 * positions and lengths, never a PIN, PAN, block or key.
 */
export class PinBlockError extends AmuletError {}
