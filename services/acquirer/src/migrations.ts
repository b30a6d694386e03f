import type { Migration } from '@amulet/store';

/**
 * The acquirer's migrations, run by @amulet/store's `migrate`. Ids start at 8100 so they never
 * meet another service's in a shared `store_migrations` table (one SQLite file in `amulet serve`).
 */
export const acquirerMigrations: readonly Migration[] = [
  {
    id: 8101,
    name: 'acquirer: merchants, terminals, authorizations, batches',
    statements: [
      `CREATE TABLE acq_merchants (merchant_id TEXT PRIMARY KEY, name_location TEXT NOT NULL, mcc TEXT NOT NULL,
        created_at TEXT NOT NULL)`,
      `CREATE TABLE acq_terminals (terminal_id TEXT PRIMARY KEY,
        merchant_id TEXT NOT NULL REFERENCES acq_merchants (merchant_id), created_at TEXT NOT NULL)`,
      `CREATE TABLE acq_authorizations (txn_key TEXT PRIMARY KEY, terminal_id TEXT NOT NULL,
        merchant_id TEXT NOT NULL, stan TEXT NOT NULL, transmission_dt TEXT NOT NULL, amount BIGINT NOT NULL,
        currency TEXT NOT NULL, dpan TEXT NOT NULL, state TEXT NOT NULL, response_code TEXT,
        authorization_id TEXT, request TEXT NOT NULL, reversal_attempts INTEGER NOT NULL, batch_id TEXT,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
      'CREATE INDEX acq_authorizations_state ON acq_authorizations (state)',
      'CREATE INDEX acq_authorizations_batch ON acq_authorizations (batch_id)',
      `CREATE TABLE acq_batches (batch_id TEXT PRIMARY KEY, closed_at TEXT NOT NULL, count INTEGER NOT NULL,
        total BIGINT NOT NULL)`,
    ],
  },
];
