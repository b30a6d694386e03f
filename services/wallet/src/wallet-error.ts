import { AmuletError } from '@amulet/bytes';

/**
 * Every error code the wallet's HTTP API answers with, its status and fixed title (RFC 9457
 * problem details). docs/wallet.md lists the same table and a test checks that they agree.
 * Titles never carry an input value.
 */
export const WALLET_PROBLEMS = {
  ERR_VALIDATION: { status: 400, title: 'The request does not match the schema of this endpoint' },
  ERR_BAD_JSON: { status: 400, title: 'The request body is not valid JSON' },
  ERR_IDEMPOTENCY_KEY_MISSING: { status: 400, title: 'This POST needs an Idempotency-Key header' },
  ERR_UNAUTHORIZED: { status: 401, title: 'A valid credential is required' },
  ERR_LOCKED: { status: 423, title: 'Too many failed logins: the account is locked for a while' },
  ERR_NOT_FOUND: { status: 404, title: 'No such resource' },
  ERR_CONFLICT: { status: 409, title: 'The resource is not in a state that allows this' },
  ERR_DUPLICATE: { status: 409, title: 'A resource with this unique value already exists' },
  ERR_IDEMPOTENCY_IN_PROGRESS: { status: 409, title: 'A request with this Idempotency-Key is in progress' },
  ERR_IDEMPOTENCY_MISMATCH: {
    status: 422,
    title: 'This Idempotency-Key was used with another request body',
  },
  ERR_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  ERR_MEDIA_TYPE: { status: 415, title: 'The request body must be application/json' },
  ERR_ATTESTATION: { status: 422, title: 'The device attestation was refused' },
  ERR_NETWORK_NOT_ALLOWED: { status: 422, title: 'This card network is not allowed by the tenant' },
  ERR_DECLINED: { status: 422, title: 'The token service declined to digitize this card' },
  ERR_OTP: { status: 422, title: 'The one-time password was refused' },
  ERR_WEBHOOK_SIGNATURE: { status: 401, title: 'The webhook signature does not verify' },
  ERR_TSP_UNAVAILABLE: { status: 502, title: 'The token service did not answer as expected' },
  ERR_INTERNAL: { status: 500, title: 'Internal error' },
} as const;

export type WalletProblemCode = keyof typeof WALLET_PROBLEMS;

/** Thrown by the wallet; `code` is one of WALLET_PROBLEMS. `reason` names a check (never a value). */
export class WalletError extends AmuletError {
  readonly reason: string | undefined;
  constructor(code: WalletProblemCode, message?: string, options: { cause?: unknown; reason?: string } = {}) {
    super(
      code,
      message ?? WALLET_PROBLEMS[code].title,
      options.cause === undefined ? {} : { cause: options.cause },
    );
    this.reason = options.reason;
  }
}

export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: WalletProblemCode;
  readonly reason?: string;
  readonly errors?: readonly { readonly path: string; readonly rule: string }[];
}

export function problem(
  code: WalletProblemCode,
  extra: { reason?: string | undefined; errors?: ProblemDocument['errors'] } = {},
): ProblemDocument {
  const { status, title } = WALLET_PROBLEMS[code];
  return {
    type: `urn:amulet:problem:${code}`,
    title,
    status,
    code,
    ...(extra.reason === undefined ? {} : { reason: extra.reason }),
    ...(extra.errors === undefined ? {} : { errors: extra.errors }),
  };
}
