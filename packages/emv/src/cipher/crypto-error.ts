import { AmuletError } from '@amulet/bytes';

/**
 * Errors of the payment cryptography functions: wrong key or data lengths, unsupported
 * parameters. Messages name lengths and parameters, never key or data bytes.
 */
export class CryptoError extends AmuletError {}
