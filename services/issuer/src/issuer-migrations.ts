import type { Dialect, Migration } from '@amulet/store';

/**
 * The issuer's own database, versioned like the store's (ids only grow; an applied migration is
 * never edited). Ids start at 1001, clear of @amulet/store's own, so the two never mistake each
 * other's migrations even in one database. `{bytes}` is the dialect's binary type; the event
 * sequence is the dialect's auto-increment.
 */
export function issuerMigrations(dialect: Dialect): readonly Migration[] {
  const serial = dialect === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGSERIAL PRIMARY KEY';
  return [
    {
      id: 1001,
      name: 'issuer accounts, cards, authorizations, ledger, otp, events',
      statements: [
        `CREATE TABLE issuer_accounts (id TEXT PRIMARY KEY, cardholder_id TEXT NOT NULL, currency TEXT NOT NULL,
          credit_limit_minor BIGINT NOT NULL, balance_minor BIGINT NOT NULL, held_minor BIGINT NOT NULL,
          history_count BIGINT NOT NULL, history_sum_minor BIGINT NOT NULL, history_max_minor BIGINT NOT NULL,
          created_at TEXT NOT NULL)`,
        `CREATE TABLE issuer_cards (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES issuer_accounts (id),
          cardholder_id TEXT NOT NULL, pan_lookup {bytes} NOT NULL UNIQUE, pan_ciphertext {bytes} NOT NULL,
          wrapped_data_key {bytes} NOT NULL, wrapping_key_id TEXT NOT NULL, pan_masked TEXT NOT NULL,
          status TEXT NOT NULL, expiry TEXT NOT NULL, step_up INTEGER NOT NULL,
          per_transaction_limit_minor BIGINT, daily_limit_minor BIGINT, spend_day TEXT NOT NULL,
          spend_day_total_minor BIGINT NOT NULL, replaced_by TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
        'CREATE INDEX issuer_cards_account ON issuer_cards (account_id)',
        `CREATE TABLE issuer_authorizations (id TEXT PRIMARY KEY, transaction_key TEXT NOT NULL UNIQUE,
          kind TEXT NOT NULL, authorization_code TEXT UNIQUE, card_id TEXT, account_id TEXT,
          amount_minor BIGINT NOT NULL, held_minor BIGINT NOT NULL, captured_minor BIGINT NOT NULL,
          currency TEXT NOT NULL, response_code TEXT NOT NULL, state TEXT NOT NULL, reasons TEXT NOT NULL,
          stand_in INTEGER NOT NULL, over_limit INTEGER NOT NULL, spend_day TEXT NOT NULL,
          created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
        `CREATE TABLE issuer_reversals (original_key TEXT PRIMARY KEY, reversal_mti TEXT NOT NULL,
          outcome TEXT NOT NULL, released_minor BIGINT NOT NULL, created_at TEXT NOT NULL)`,
        `CREATE TABLE issuer_postings (id TEXT PRIMARY KEY, kind TEXT NOT NULL, authorization_id TEXT,
          created_at TEXT NOT NULL)`,
        `CREATE TABLE issuer_entries (posting_id TEXT NOT NULL REFERENCES issuer_postings (id), line INTEGER NOT NULL,
          ledger_account TEXT NOT NULL, amount_minor BIGINT NOT NULL, PRIMARY KEY (posting_id, line))`,
        `CREATE TABLE issuer_otps (id TEXT PRIMARY KEY, card_id TEXT NOT NULL, code_hash {bytes} NOT NULL,
          expires_at TEXT NOT NULL, tries_left INTEGER NOT NULL, state TEXT NOT NULL, created_at TEXT NOT NULL)`,
        'CREATE INDEX issuer_otps_card ON issuer_otps (card_id, created_at)',
        `CREATE TABLE issuer_otp_outbox (id TEXT PRIMARY KEY, cardholder_id TEXT NOT NULL, card_masked TEXT NOT NULL,
          code TEXT NOT NULL, expires_at TEXT NOT NULL, delivered INTEGER NOT NULL, created_at TEXT NOT NULL)`,
        'CREATE INDEX issuer_otp_outbox_cardholder ON issuer_otp_outbox (cardholder_id, delivered)',
        `CREATE TABLE issuer_events (seq ${serial}, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,
          card_id TEXT NOT NULL, payload_ciphertext {bytes} NOT NULL, wrapped_data_key {bytes} NOT NULL,
          wrapping_key_id TEXT NOT NULL, created_at TEXT NOT NULL)`,
      ],
    },
    {
      id: 1002,
      name: 'how far hold expiry has swept',
      statements: [
        // One row: every authorization created before swept_before (ms since the epoch) has been
        // looked at. No index on the hot path: authorization ids sort by creation time.
        'CREATE TABLE issuer_hold_sweep (id INTEGER PRIMARY KEY, swept_before BIGINT NOT NULL)',
      ],
    },
    {
      id: 1003,
      name: 'otp outbox by expiry',
      // expireOtpOutbox deletes the messages whose code has expired, oldest first.
      statements: ['CREATE INDEX issuer_otp_outbox_expiry ON issuer_otp_outbox (expires_at)'],
    },
  ];
}
