import type { Migration } from '@amulet/store';

/** The wallet's migrations, applied by @amulet/store's `migrate` (ids only grow; never edit one). */
export const walletMigrations: readonly Migration[] = [
  {
    id: 1,
    name: 'wallet tenants, users, sessions, challenges',
    statements: [
      `CREATE TABLE wallet_tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL, brand TEXT NOT NULL,
        pin_policy TEXT NOT NULL, allowed_networks TEXT NOT NULL, trid TEXT NOT NULL UNIQUE,
        pki_tenant_id TEXT NOT NULL, device_ca_pem TEXT NOT NULL, api_key_id TEXT NOT NULL UNIQUE,
        api_key_hash TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
      `CREATE TABLE wallet_users (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES wallet_tenants (id),
        email TEXT NOT NULL, password_hash TEXT NOT NULL, failed_logins INTEGER NOT NULL,
        locked_until TEXT, created_at TEXT NOT NULL, UNIQUE (tenant_id, email))`,
      `CREATE TABLE wallet_sessions (id_hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, user_id TEXT NOT NULL
        REFERENCES wallet_users (id), created_at TEXT NOT NULL, expires_at TEXT NOT NULL)`,
      'CREATE INDEX wallet_sessions_user ON wallet_sessions (user_id)',
      `CREATE TABLE wallet_challenges (nonce_hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
        user_id TEXT NOT NULL, purpose TEXT NOT NULL, expires_at TEXT NOT NULL)`,
    ],
  },
  {
    id: 2,
    name: 'wallet devices, cards, commands',
    statements: [
      `CREATE TABLE wallet_devices (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES wallet_tenants (id),
        user_id TEXT, cert_serial TEXT NOT NULL, cert_fingerprint TEXT NOT NULL, chain TEXT NOT NULL,
        model TEXT NOT NULL, oem_id TEXT NOT NULL, state TEXT NOT NULL, state_version INTEGER NOT NULL,
        paired_at TEXT NOT NULL, attested_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        UNIQUE (tenant_id, cert_fingerprint))`,
      'CREATE INDEX wallet_devices_user ON wallet_devices (tenant_id, user_id)',
      `CREATE TABLE wallet_cards (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, user_id TEXT NOT NULL,
        device_id TEXT NOT NULL REFERENCES wallet_devices (id), token_reference TEXT NOT NULL UNIQUE,
        last4 TEXT NOT NULL, network TEXT NOT NULL, art_url TEXT NOT NULL, issuer_name TEXT NOT NULL,
        status TEXT NOT NULL, is_default INTEGER NOT NULL, tsp_status_version BIGINT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
      'CREATE INDEX wallet_cards_owner ON wallet_cards (tenant_id, user_id, device_id)',
      `CREATE TABLE wallet_device_commands (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
        device_id TEXT NOT NULL REFERENCES wallet_devices (id), kind TEXT NOT NULL, token_reference TEXT,
        created_at TEXT NOT NULL, acknowledged_at TEXT)`,
      'CREATE INDEX wallet_device_commands_device ON wallet_device_commands (device_id, created_at)',
    ],
  },
  {
    id: 3,
    name: 'wallet idempotency keys, webhook inbox',
    statements: [
      `CREATE TABLE wallet_idempotency (scope TEXT NOT NULL, idem_key TEXT NOT NULL, request_hash TEXT NOT NULL,
        state TEXT NOT NULL, status_code INTEGER, response TEXT, created_at TEXT NOT NULL,
        PRIMARY KEY (scope, idem_key))`,
      `CREATE TABLE wallet_webhook_inbox (webhook_id TEXT PRIMARY KEY, event_type TEXT NOT NULL,
        token_reference TEXT, outcome TEXT NOT NULL, received_at TEXT NOT NULL)`,
    ],
  },
  {
    id: 4,
    name: 'wallet cards by device',
    statements: [
      // The default switch clears the device's other default by device_id alone, as do lost, found
      // and wipe; wallet_cards_owner starts with tenant_id and user_id, so those scanned the table.
      'CREATE INDEX wallet_cards_device ON wallet_cards (device_id)',
    ],
  },
  {
    id: 5,
    name: 'wallet card listing in order',
    statements: [
      // GET /v1/cards lists an owner's cards by created_at, id: with wallet_cards_owner alone SQLite
      // sorted them in a temporary B-tree on every listing; in this order the index hands them over
      // sorted (about 1 µs of an 11 µs listing of three cards).
      'CREATE INDEX wallet_cards_listing ON wallet_cards (tenant_id, user_id, created_at, id)',
    ],
  },
  {
    id: 6,
    name: 'wallet records by age',
    statements: [
      // WalletStore.expire deletes ended sessions and challenges and old Idempotency-Keys, oldest
      // first, a few hundred at a time.
      'CREATE INDEX wallet_sessions_expiry ON wallet_sessions (expires_at)',
      'CREATE INDEX wallet_challenges_expiry ON wallet_challenges (expires_at)',
      'CREATE INDEX wallet_idempotency_created ON wallet_idempotency (created_at)',
    ],
  },
  {
    id: 7,
    name: 'wallet history by age',
    statements: [
      // WalletStore.expire also deletes TSP webhooks and acknowledged device commands a month old.
      'CREATE INDEX wallet_webhook_inbox_received ON wallet_webhook_inbox (received_at)',
      'CREATE INDEX wallet_device_commands_acknowledged ON wallet_device_commands (acknowledged_at)',
    ],
  },
];
