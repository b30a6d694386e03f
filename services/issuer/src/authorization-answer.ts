import { type DecisionReason, decisionReasons } from './decision-reasons.ts';
import type { AuthorizationRow } from './issuer-context.ts';

/** The issuer's answer to an authorization, a verification or an OTP check: a value, never a throw. */
export interface AuthorizationAnswer {
  /** approved: '00'. declined: any other code. step-up: ID&V yellow ('1A'). */
  readonly status: 'approved' | 'declined' | 'step-up';
  /** ISO 8583:1987 field 39. */
  readonly responseCode: string;
  /** Why it was not approved; absent on approval. */
  readonly reason?: DecisionReason;
  /** Field 38, on approvals of purchases. */
  readonly authorizationCode?: string;
  readonly authorizationId: string;
  /** Reason codes of the risk rules that matched (also on approvals). */
  readonly riskReasons: readonly string[];
  /** True when this is the stored answer to an earlier copy of the same transaction. */
  readonly repeated: boolean;
}

interface StoredReasons {
  readonly reason?: DecisionReason;
  readonly risk: readonly string[];
}

export function encodeReasons(reason: DecisionReason | undefined, risk: readonly string[]): string {
  return JSON.stringify(reason === undefined ? { risk } : { reason, risk });
}

export function answerFromRow(row: AuthorizationRow, repeated: boolean): AuthorizationAnswer {
  const stored = JSON.parse(row.reasons) as StoredReasons;
  const reason = stored.reason !== undefined && stored.reason in decisionReasons ? stored.reason : undefined;
  const status =
    row.response_code === '00' ? 'approved' : row.response_code === '1A' ? 'step-up' : 'declined';
  return {
    status,
    responseCode: row.response_code,
    ...(reason === undefined ? {} : { reason }),
    ...(row.authorization_code === null || status !== 'approved'
      ? {}
      : { authorizationCode: row.authorization_code }),
    authorizationId: row.id,
    riskReasons: stored.risk,
    repeated,
  };
}
