/** The acquirer's tables (times are ISO 8601 text). */
export interface AcquirerSchema {
  acq_merchants: { merchant_id: string; name_location: string; mcc: string; created_at: string };
  acq_terminals: { terminal_id: string; merchant_id: string; created_at: string };
  acq_authorizations: {
    txn_key: string;
    terminal_id: string;
    merchant_id: string;
    stan: string;
    transmission_dt: string;
    amount: number;
    currency: string;
    /** The DPAN the terminal read: the acquirer never sees the real card number. */
    dpan: string;
    state: AuthorizationState;
    response_code: string | null;
    authorization_id: string | null;
    /** Fields 2-49 of the forwarded request as JSON, to build its reversal after a restart. */
    request: string;
    reversal_attempts: number;
    batch_id: string | null;
    created_at: string;
    updated_at: string;
  };
  acq_batches: { batch_id: string; closed_at: string; count: number; total: number };
  store_migrations: { id: number; name: string; applied_at: string };
}

/**
 * pending: forwarded, no answer yet. approved / declined: the network answered (final unless
 * reversed). reversal-pending: timed out, or the terminal reversed it: the 0420 is being
 * delivered. reversed: the network acknowledged the reversal (final).
 */
export type AuthorizationState = 'pending' | 'approved' | 'declined' | 'reversal-pending' | 'reversed';

export const finalStates: ReadonlySet<AuthorizationState> = new Set(['approved', 'declined', 'reversed']);
