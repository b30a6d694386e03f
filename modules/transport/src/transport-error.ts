import { AmuletError, type AmuletErrorOptions } from '@amulet/bytes';

/**
 * Every error code the transport throws or reports, with what it means. The docs list the same
 * codes (a test compares them), so callers can branch on `code` without reading the source.
 */
export const transportErrorCodes = {
  ERR_FRAME_HEADER: 'a length header that cannot be parsed; the connection is dropped',
  ERR_FRAME_TOO_LARGE: 'a frame longer than the configured maximum; an incoming one drops the connection',
  ERR_MESSAGE_DECODE: 'a frame whose content the codec rejects; the connection is kept',
  ERR_TIMEOUT: 'no response arrived within the request timeout',
  ERR_DUPLICATE_KEY: 'a request with the same matching key is already in flight (or recently timed out)',
  ERR_TOO_MANY_IN_FLIGHT: 'the client already has its maximum number of requests in flight',
  ERR_NOT_CONNECTED: 'the client is not connected and was told to fail fast',
  ERR_CONNECTION_LOST:
    'the connection closed while the request was in flight; it may or may not have been processed',
  ERR_CLOSED: 'the client or server was closed',
  ERR_CONNECT_FAILED: 'the client gave up connecting after its maximum number of attempts',
  ERR_NOT_ACKNOWLEDGED: 'sendUntilAcknowledged used every attempt without a response',
  ERR_OPTIONS: 'an option is out of its documented range',
} as const;

export type TransportErrorCode = keyof typeof transportErrorCodes;

/** The one error class of the transport; `code` is one of `transportErrorCodes`. */
export class TransportError extends AmuletError {
  declare readonly code: TransportErrorCode;

  constructor(code: TransportErrorCode, message: string, options: AmuletErrorOptions = {}) {
    super(code, message, options);
  }
}

export function isTransportError(value: unknown, code?: TransportErrorCode): value is TransportError {
  return value instanceof TransportError && (code === undefined || value.code === code);
}
