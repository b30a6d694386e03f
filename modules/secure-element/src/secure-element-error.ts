import { AmuletError } from '@amulet/bytes';

/** Errors of the secure element's host-side API (never thrown by `transmit`, which answers a status word). */
export class SecureElementError extends AmuletError {}
