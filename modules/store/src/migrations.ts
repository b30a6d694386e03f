import type { Dialect, Engine } from './engine.ts';

/**
 * Versioned migrations. Each runs once, inside one transaction together with its row in
 * `store_migrations`; ids only grow and an applied migration is never edited (add a new one).
 * DDL is written once with `{bytes}` standing for the dialect's binary type.
 */
export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly statements: readonly string[];
}

export const migrations: readonly Migration[] = [
  {
    id: 1,
    name: 'requestors, bin ranges, issuers',
    statements: [
      `CREATE TABLE token_requestors (trid TEXT PRIMARY KEY, name TEXT NOT NULL, tenant TEXT NOT NULL,
        created_at TEXT NOT NULL)`,
      `CREATE TABLE token_bin_ranges (id TEXT PRIMARY KEY, network TEXT NOT NULL, bin_low TEXT NOT NULL,
        bin_high TEXT NOT NULL, token_length INTEGER NOT NULL)`,
      'CREATE INDEX token_bin_ranges_network ON token_bin_ranges (network)',
      `CREATE TABLE issuers (id TEXT PRIMARY KEY, name TEXT NOT NULL, idv_endpoint TEXT NOT NULL,
        auth_endpoint TEXT NOT NULL)`,
      'CREATE TABLE issuer_bins (bin TEXT PRIMARY KEY, issuer_id TEXT NOT NULL REFERENCES issuers (id))',
    ],
  },
  {
    id: 2,
    name: 'vault',
    statements: [
      `CREATE TABLE pan_records (id TEXT PRIMARY KEY, pan_lookup {bytes} NOT NULL UNIQUE,
        pan_ciphertext {bytes} NOT NULL, wrapping_key_id TEXT NOT NULL, wrapped_data_key {bytes} NOT NULL,
        par TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
      'CREATE INDEX pan_records_wrapping_key ON pan_records (wrapping_key_id, id)',
      `CREATE TABLE tokens (id TEXT PRIMARY KEY, dpan TEXT NOT NULL UNIQUE, token_expiry TEXT NOT NULL,
        status TEXT NOT NULL, status_version INTEGER NOT NULL,
        requestor_trid TEXT NOT NULL REFERENCES token_requestors (trid),
        pan_record_id TEXT NOT NULL REFERENCES pan_records (id), device_cert_serial TEXT NOT NULL,
        device_cert_fingerprint TEXT NOT NULL, domain_controls TEXT NOT NULL, assurance_method TEXT NOT NULL,
        created_at TEXT NOT NULL)`,
      'CREATE INDEX tokens_device ON tokens (device_cert_fingerprint)',
      'CREATE INDEX tokens_requestor ON tokens (requestor_trid)',
      'CREATE INDEX tokens_pan_record ON tokens (pan_record_id)',
      `CREATE TABLE token_status_history (token_id TEXT NOT NULL REFERENCES tokens (id),
        status_version INTEGER NOT NULL, from_status TEXT NOT NULL, to_status TEXT NOT NULL,
        actor TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (token_id, status_version))`,
    ],
  },
  {
    id: 3,
    name: 'atc, idempotency, audit',
    statements: [
      'CREATE TABLE atc_marks (token_id TEXT PRIMARY KEY REFERENCES tokens (id), high_water INTEGER NOT NULL)',
      `CREATE TABLE atc_verdicts (token_id TEXT NOT NULL REFERENCES tokens (id), atc INTEGER NOT NULL,
        verdict TEXT NOT NULL, reasons TEXT NOT NULL, status_version INTEGER NOT NULL, at TEXT NOT NULL,
        PRIMARY KEY (token_id, atc))`,
      `CREATE TABLE idempotency_keys (scope TEXT NOT NULL, idem_key TEXT NOT NULL, request_hash TEXT NOT NULL,
        state TEXT NOT NULL, response TEXT, created_at TEXT NOT NULL, PRIMARY KEY (scope, idem_key))`,
      `CREATE TABLE audit_log (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL,
        action TEXT NOT NULL, subject TEXT NOT NULL, details TEXT NOT NULL, prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL)`,
    ],
  },
  {
    id: 4,
    name: 'token card profiles, provisioning, card metadata, webhooks',
    statements: [
      `CREATE TABLE token_cards (token_id TEXT PRIMARY KEY REFERENCES tokens (id), cvn INTEGER NOT NULL,
        psn TEXT NOT NULL, imk_key_id TEXT NOT NULL, provisioning TEXT NOT NULL, updated_at TEXT NOT NULL)`,
      `CREATE TABLE card_metadata (pan_record_id TEXT PRIMARY KEY REFERENCES pan_records (id),
        metadata TEXT NOT NULL, updated_at TEXT NOT NULL)`,
      `CREATE TABLE webhook_subscriptions (id TEXT PRIMARY KEY, requestor_trid TEXT NOT NULL,
        url TEXT NOT NULL, event_types TEXT NOT NULL, created_at TEXT NOT NULL)`,
      'CREATE INDEX webhook_subscriptions_requestor ON webhook_subscriptions (requestor_trid)',
      `CREATE TABLE webhook_events (id TEXT PRIMARY KEY, requestor_trid TEXT NOT NULL, event_type TEXT NOT NULL,
        payload TEXT NOT NULL, created_at TEXT NOT NULL)`,
      `CREATE TABLE webhook_deliveries (event_id TEXT NOT NULL REFERENCES webhook_events (id),
        subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id), state TEXT NOT NULL,
        attempts INTEGER NOT NULL, next_attempt_at TEXT NOT NULL, last_status INTEGER NOT NULL,
        PRIMARY KEY (event_id, subscription_id))`,
      'CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at)',
    ],
  },
  {
    id: 5,
    name: 'idempotency keys by age',
    statements: [
      // IdempotencyRepository.expire deletes the oldest keys first, a few hundred at a time.
      'CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at)',
    ],
  },
  {
    id: 6,
    name: 'webhook events by age',
    statements: [
      // WebhookRepository.expireEvents deletes the oldest settled events first.
      'CREATE INDEX webhook_events_created ON webhook_events (created_at)',
    ],
  },
];

function ddl(statement: string, dialect: Dialect): string {
  return statement.replaceAll('{bytes}', dialect === 'sqlite' ? 'BLOB' : 'BYTEA');
}

/** Applies every migration not yet recorded; returns the ids applied now. */
export async function migrate(
  engine: Engine,
  now: () => Date,
  list: readonly Migration[] = migrations,
): Promise<number[]> {
  await engine.transaction(async (q) => {
    await q.exec(
      'CREATE TABLE IF NOT EXISTS store_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
  });
  const applied: number[] = [];
  for (const migration of list) {
    const ran = await engine.transaction(async (q) => {
      // PostgreSQL: two processes opening the same database at once take turns here.
      if (engine.dialect === 'postgres') await q.exec('SELECT pg_advisory_xact_lock(7406211)');
      const done = await q.all(
        engine.db.selectFrom('store_migrations').select('id').where('id', '=', migration.id).compile(),
      );
      if (done.length > 0) return false;
      for (const statement of migration.statements) await q.exec(ddl(statement, engine.dialect));
      await q.run(
        engine.db
          .insertInto('store_migrations')
          .values({ id: migration.id, name: migration.name, applied_at: now().toISOString() })
          .compile(),
      );
      return true;
    });
    if (ran) applied.push(migration.id);
  }
  return applied;
}

/**
 * Runs `list` on an engine just opened and hands the engine back; when they fail the engine is
 * closed and the failure thrown, so no caller is left holding a database it cannot use.
 */
export async function migrateOpened(
  engine: Engine,
  now: () => Date,
  list: readonly Migration[],
): Promise<Engine> {
  try {
    await migrate(engine, now, list);
  } catch (error) {
    await engine.close().catch(() => undefined);
    throw error;
  }
  return engine;
}
