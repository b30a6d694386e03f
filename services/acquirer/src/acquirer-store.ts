import {
  type Engine,
  isUniqueViolation,
  migrateOpened,
  openPostgresEngine,
  openSqliteEngine,
  type Querier,
  queryBuilder,
} from '@amulet/store';
import type { CompiledQuery } from 'kysely';
import { acquirerMigrations } from './migrations.ts';
import type { AcquirerSchema, AuthorizationState } from './schema.ts';

export interface Merchant {
  readonly merchantId: string;
  /** Field 43: name (25), city (13), country (2). */
  readonly nameLocation: string;
  /** Field 18, merchant category code (ISO 18245), 4 digits. */
  readonly mcc: string;
}

export interface TerminalRecord {
  readonly terminalId: string;
  readonly merchantId: string;
}

export interface AuthorizationRecord {
  readonly key: string;
  readonly terminalId: string;
  readonly merchantId: string;
  readonly stan: string;
  readonly transmissionDateTime: string;
  readonly amount: number;
  readonly currency: string;
  readonly dpan: string;
  readonly state: AuthorizationState;
  readonly responseCode: string | undefined;
  readonly authorizationId: string | undefined;
  /** The forwarded request's text fields by number. */
  readonly request: Readonly<Record<string, string>>;
  readonly reversalAttempts: number;
  readonly batchId: string | undefined;
}

export interface Capture {
  readonly key: string;
  readonly terminalId: string;
  readonly merchantId: string;
  readonly dpan: string;
  readonly amount: number;
  readonly currency: string;
  readonly authorizationId: string | undefined;
}

export type AcquirerStoreOptions =
  | { readonly kind: 'sqlite'; readonly file: string; readonly groupCommit?: boolean }
  | {
      readonly kind: 'postgres';
      readonly database: string;
      readonly host?: string;
      readonly port?: number;
      readonly user?: string;
    };

type Row = AcquirerSchema['acq_authorizations'];

function toRecord(row: Row): AuthorizationRecord {
  return {
    key: row.txn_key,
    terminalId: row.terminal_id,
    merchantId: row.merchant_id,
    stan: row.stan,
    transmissionDateTime: row.transmission_dt,
    amount: Number(row.amount),
    currency: row.currency,
    dpan: row.dpan,
    state: row.state,
    responseCode: row.response_code ?? undefined,
    authorizationId: row.authorization_id ?? undefined,
    request: JSON.parse(row.request) as Record<string, string>,
    reversalAttempts: Number(row.reversal_attempts),
    batchId: row.batch_id ?? undefined,
  };
}

/**
 * The acquirer's storage on @amulet/store's engine (SQLite with WAL and synchronous=FULL, group
 * commit; or PostgreSQL). Every state change is a compare-and-set on the current state, so a late
 * answer never overwrites a reversal, and every write is committed before the caller goes on.
 */
export class AcquirerStore {
  readonly #engine: Engine;
  readonly #db: ReturnType<typeof queryBuilder<AcquirerSchema>>;
  readonly #now: () => Date;
  /** Hot-path statements compiled once per shape (DESIGN.md: no per-call query compilation). */
  readonly #compiled = new Map<string, CompiledQuery>();

  private constructor(engine: Engine, now: () => Date) {
    this.#engine = engine;
    this.#db = queryBuilder<AcquirerSchema>(engine.dialect);
    this.#now = now;
  }

  static async open(
    options: AcquirerStoreOptions,
    now: () => Date = () => new Date(),
  ): Promise<AcquirerStore> {
    const engine =
      options.kind === 'sqlite'
        ? openSqliteEngine({
            file: options.file,
            ...(options.groupCommit === undefined ? {} : { groupCommit: options.groupCommit }),
          })
        : await openPostgresEngine(options);
    return new AcquirerStore(await migrateOpened(engine, now, acquirerMigrations), now);
  }

  get dialect(): 'sqlite' | 'postgres' {
    return this.#engine.dialect;
  }

  close(): Promise<void> {
    return this.#engine.close();
  }

  /** Transactions run and commits made since open: with group commit, many share one commit. */
  stats(): { transactions: number; commits: number } {
    return this.#engine.stats();
  }

  #stamp(): string {
    return this.#now().toISOString();
  }

  /**
   * The statement of `shape`, built by Kysely on first use and then reused with new parameters.
   * `parameters` must be the values in the order the builder binds them; the first build checks
   * that they are, so a change in Kysely's ordering fails loudly instead of binding the wrong values.
   */
  #reuse(shape: string, parameters: readonly unknown[], build: () => CompiledQuery): CompiledQuery {
    let compiled = this.#compiled.get(shape);
    if (compiled === undefined) {
      compiled = build();
      if (
        compiled.parameters.length !== parameters.length ||
        compiled.parameters.some((value, i) => value !== parameters[i])
      )
        throw new Error(`acquirer store: the parameters of ${shape} are not in builder order`);
      this.#compiled.set(shape, compiled);
      return compiled;
    }
    return { ...compiled, parameters };
  }

  #write<T>(fn: (q: Querier) => Promise<T>): Promise<T> {
    return this.#engine.transaction(fn);
  }

  async addMerchant(merchant: Merchant): Promise<void> {
    const row = {
      merchant_id: merchant.merchantId,
      name_location: merchant.nameLocation,
      mcc: merchant.mcc,
      created_at: this.#stamp(),
    };
    await this.#write((q) => q.run(this.#db.insertInto('acq_merchants').values(row).compile()));
  }

  async addTerminal(terminal: TerminalRecord): Promise<void> {
    const row = {
      terminal_id: terminal.terminalId,
      merchant_id: terminal.merchantId,
      created_at: this.#stamp(),
    };
    await this.#write((q) => q.run(this.#db.insertInto('acq_terminals').values(row).compile()));
  }

  async merchants(): Promise<Merchant[]> {
    const rows = await this.#engine.read.all<AcquirerSchema['acq_merchants']>(
      this.#db.selectFrom('acq_merchants').selectAll().compile(),
    );
    return rows.map((r) => ({ merchantId: r.merchant_id, nameLocation: r.name_location, mcc: r.mcc }));
  }

  async terminals(): Promise<TerminalRecord[]> {
    const rows = await this.#engine.read.all<AcquirerSchema['acq_terminals']>(
      this.#db.selectFrom('acq_terminals').selectAll().compile(),
    );
    return rows.map((r) => ({ terminalId: r.terminal_id, merchantId: r.merchant_id }));
  }

  /** Records a new authorization as pending; false when the key is already there (a repeat). */
  async insertPending(
    record: Omit<AuthorizationRecord, 'responseCode' | 'authorizationId' | 'reversalAttempts' | 'batchId'>,
  ): Promise<boolean> {
    const at = this.#stamp();
    const row: Row = {
      txn_key: record.key,
      terminal_id: record.terminalId,
      merchant_id: record.merchantId,
      stan: record.stan,
      transmission_dt: record.transmissionDateTime,
      amount: record.amount,
      currency: record.currency,
      dpan: record.dpan,
      state: record.state,
      response_code: null,
      authorization_id: null,
      request: JSON.stringify(record.request),
      reversal_attempts: 0,
      batch_id: null,
      created_at: at,
      updated_at: at,
    };
    try {
      const insert = this.#reuse('insert-pending', Object.values(row), () =>
        this.#db.insertInto('acq_authorizations').values(row).compile(),
      );
      await this.#write((q) => q.run(insert));
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  async get(key: string): Promise<AuthorizationRecord | undefined> {
    const rows = await this.#engine.read.all<Row>(
      this.#db.selectFrom('acq_authorizations').selectAll().where('txn_key', '=', key).compile(),
    );
    return rows[0] === undefined ? undefined : toRecord(rows[0]);
  }

  /** Moves an authorization from one of `from` to `to`; false when it was in another state. */
  async transition(
    key: string,
    from: readonly AuthorizationState[],
    to: AuthorizationState,
    answer: { readonly responseCode?: string; readonly authorizationId?: string } = {},
  ): Promise<boolean> {
    const set = {
      state: to,
      updated_at: this.#stamp(),
      ...(answer.responseCode === undefined ? {} : { response_code: answer.responseCode }),
      ...(answer.authorizationId === undefined ? {} : { authorization_id: answer.authorizationId }),
    };
    const update = this.#reuse(
      `transition:${Object.keys(set).join(',')}:${from.length}`,
      [...Object.values(set), key, ...from],
      () =>
        this.#db
          .updateTable('acq_authorizations')
          .set(set)
          .where('txn_key', '=', key)
          .where('state', 'in', [...from])
          .compile(),
    );
    const changed = await this.#write((q) => q.run(update));
    return changed === 1;
  }

  async countReversalAttempt(key: string, attempts: number): Promise<void> {
    await this.#write((q) =>
      q.run(
        this.#db
          .updateTable('acq_authorizations')
          .set({ reversal_attempts: attempts, updated_at: this.#stamp() })
          .where('txn_key', '=', key)
          .compile(),
      ),
    );
  }

  async inState(states: readonly AuthorizationState[]): Promise<AuthorizationRecord[]> {
    const rows = await this.#engine.read.all<Row>(
      this.#db
        .selectFrom('acq_authorizations')
        .selectAll()
        .where('state', 'in', [...states])
        .compile(),
    );
    return rows.map(toRecord);
  }

  async all(): Promise<AuthorizationRecord[]> {
    const rows = await this.#engine.read.all<Row>(
      this.#db.selectFrom('acq_authorizations').selectAll().orderBy('txn_key').compile(),
    );
    return rows.map(toRecord);
  }

  /**
   * Closes a batch for clearing: every approved, not reversed, not yet batched authorization is
   * given the batch id, in one transaction, and returned. An empty batch is recorded too.
   */
  async closeBatch(batchId: string): Promise<Capture[]> {
    return this.#write(async (q) => {
      await q.run(
        this.#db
          .updateTable('acq_authorizations')
          .set({ batch_id: batchId, updated_at: this.#stamp() })
          .where('state', '=', 'approved')
          .where('batch_id', 'is', null)
          .compile(),
      );
      const rows = await q.all<Row>(
        this.#db
          .selectFrom('acq_authorizations')
          .selectAll()
          .where('batch_id', '=', batchId)
          .orderBy('txn_key')
          .compile(),
      );
      const captures = rows.map((row) => ({
        key: row.txn_key,
        terminalId: row.terminal_id,
        merchantId: row.merchant_id,
        dpan: row.dpan,
        amount: Number(row.amount),
        currency: row.currency,
        authorizationId: row.authorization_id ?? undefined,
      }));
      await q.run(
        this.#db
          .insertInto('acq_batches')
          .values({
            batch_id: batchId,
            closed_at: this.#stamp(),
            count: captures.length,
            total: captures.reduce((sum, c) => sum + c.amount, 0),
          })
          .compile(),
      );
      return captures;
    });
  }
}
