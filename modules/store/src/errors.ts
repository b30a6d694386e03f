import { AmuletError } from '@amulet/bytes';

/**
 * Thrown by the store. Codes:
 * - `ERR_STORE_INPUT`: a value failed validation before it reached the database (lengths, formats).
 * - `ERR_STORE_DUPLICATE`: a uniqueness rule refused the row (DPAN, PAR, PAN lookup, TRID, key).
 * - `ERR_STORE_NOT_FOUND`: the row an update names does not exist.
 * - `ERR_STORE_UNAVAILABLE`: the database could not be opened or reached.
 * - `ERR_STORE_CLOSED`: the store was used after `close()`.
 * Messages name tables and columns, never values.
 */
export class StoreError extends AmuletError {}
