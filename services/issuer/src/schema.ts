import type { Generated } from 'kysely';

/**
 * The issuer's tables, for the Kysely query builder. Money is in minor units (BIGINT; the pg driver
 * returns BIGINT as a string, so reads go through Number()). No column holds a clear PAN: cards keep
 * the PAN encrypted under a data key wrapped in the HSM, a keyed hash for lookup, and a masked form.
 */
export interface IssuerSchema {
  issuer_accounts: {
    id: string;
    cardholder_id: string;
    currency: string;
    credit_limit_minor: number | string;
    balance_minor: number | string;
    held_minor: number | string;
    history_count: number | string;
    history_sum_minor: number | string;
    history_max_minor: number | string;
    created_at: string;
  };
  issuer_cards: {
    id: string;
    account_id: string;
    cardholder_id: string;
    pan_lookup: Uint8Array;
    pan_ciphertext: Uint8Array;
    wrapped_data_key: Uint8Array;
    wrapping_key_id: string;
    pan_masked: string;
    status: string;
    expiry: string;
    step_up: number;
    per_transaction_limit_minor: number | string | null;
    daily_limit_minor: number | string | null;
    spend_day: string;
    spend_day_total_minor: number | string;
    replaced_by: string | null;
    created_at: string;
    updated_at: string;
  };
  issuer_authorizations: {
    id: string;
    transaction_key: string;
    kind: string;
    authorization_code: string | null;
    card_id: string | null;
    account_id: string | null;
    amount_minor: number | string;
    held_minor: number | string;
    captured_minor: number | string;
    currency: string;
    response_code: string;
    state: string;
    reasons: string;
    stand_in: number;
    over_limit: number;
    spend_day: string;
    created_at: string;
    updated_at: string;
  };
  issuer_reversals: {
    original_key: string;
    reversal_mti: string;
    outcome: string;
    released_minor: number | string;
    created_at: string;
  };
  issuer_postings: {
    id: string;
    kind: string;
    authorization_id: string | null;
    created_at: string;
  };
  issuer_entries: {
    posting_id: string;
    line: number;
    ledger_account: string;
    amount_minor: number | string;
  };
  issuer_otps: {
    id: string;
    card_id: string;
    code_hash: Uint8Array;
    expires_at: string;
    tries_left: number;
    state: string;
    created_at: string;
  };
  issuer_otp_outbox: {
    id: string;
    cardholder_id: string;
    card_masked: string;
    code: string;
    expires_at: string;
    delivered: number;
    created_at: string;
  };
  issuer_events: {
    seq: Generated<number | string>;
    id: string;
    type: string;
    card_id: string;
    payload_ciphertext: Uint8Array;
    wrapped_data_key: Uint8Array;
    wrapping_key_id: string;
    created_at: string;
  };
  issuer_hold_sweep: {
    id: number;
    swept_before: number | string;
  };
}
