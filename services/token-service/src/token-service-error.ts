import { AmuletError, type AmuletErrorOptions } from '@amulet/bytes';

/**
 * Every failure the token service reports, in one table: its HTTP status and RFC 9457 title.
 * docs/token-service.md lists the same codes (a test checks that both agree).
 */
export const tokenServiceErrors = {
  ERR_TSP_INPUT: { status: 400, title: 'The request is malformed' },
  ERR_TSP_CARD_DATA: { status: 400, title: 'The encrypted card data cannot be used' },
  ERR_TSP_DEVICE_CERTIFICATE: { status: 400, title: 'The device certificate is not accepted' },
  ERR_TSP_IDEMPOTENCY_KEY: { status: 400, title: 'An Idempotency-Key header is required' },
  ERR_TSP_NOT_FOUND: { status: 404, title: 'No such object' },
  ERR_TSP_REQUESTOR_UNKNOWN: { status: 404, title: 'The token requestor is not registered' },
  ERR_TSP_ISSUER_UNKNOWN: { status: 422, title: 'No issuer serves this card' },
  ERR_TSP_NO_BIN_RANGE: { status: 422, title: 'No token BIN range for this card network' },
  ERR_TSP_STATE: { status: 409, title: 'The token is not in a state that allows this' },
  ERR_TSP_IDEMPOTENCY_CONFLICT: { status: 422, title: 'The Idempotency-Key was used with another request' },
  ERR_TSP_IDEMPOTENCY_IN_PROGRESS: {
    status: 409,
    title: 'A request with this Idempotency-Key is in progress',
  },
  ERR_TSP_ISSUER_UNAVAILABLE: { status: 503, title: 'The issuer did not answer' },
  ERR_TSP_INTERNAL: { status: 500, title: 'Internal error' },
} as const;

export type TokenServiceErrorCode = keyof typeof tokenServiceErrors;

/** A token service failure: a stable code, a message that never holds card data or keys. */
export class TokenServiceError extends AmuletError {
  declare readonly code: TokenServiceErrorCode;
  constructor(code: TokenServiceErrorCode, message: string, options?: AmuletErrorOptions) {
    super(code, message, options);
    this.name = 'TokenServiceError';
  }
}
