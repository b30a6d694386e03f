import { AmuletError } from '@amulet/bytes';

export const issuerErrorCodes = [
  /** Input to a library call that breaks its rules (a bad PAN, amount, expiry, status change). */
  'ERR_ISSUER_INPUT',
  /** An account, card or authorization that does not exist. */
  'ERR_ISSUER_NOT_FOUND',
  /** A card status change the lifecycle does not allow (a closed card stays closed). */
  'ERR_ISSUER_STATUS',
  /** A ledger posting that does not balance: a bug, never a business outcome. */
  'ERR_ISSUER_LEDGER',
] as const;

export type IssuerErrorCode = (typeof issuerErrorCodes)[number];

/** The issuer's errors: names and limits in the message, never a PAN, code or key. */
export class IssuerError extends AmuletError {
  declare readonly code: IssuerErrorCode;
  constructor(code: IssuerErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
  }
}
