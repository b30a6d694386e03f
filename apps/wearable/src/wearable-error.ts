import { AmuletError } from '@amulet/bytes';

/**
 * Thrown by the wearable. Codes:
 * - `ERR_WEARABLE_MESSAGE`: a phone message that does not parse (wrong version, type, length or bounds).
 * - `ERR_WEARABLE_LINK`: a secure-link message out of order (no pairing in progress, no link).
 * Messages never contain a PIN, a card number or a key.
 */
export class WearableError extends AmuletError {}
