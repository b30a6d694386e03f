import {
  type Engine,
  type Migration,
  migrateOpened,
  openPostgresEngine,
  openSqliteEngine,
  type PostgresEngineOptions,
  queryBuilder,
} from '@amulet/store';

/**
 * The switch's own outgoing advices: a stand-in approval's 0120 and the 0420 that undoes an
 * authorization the issuer never answered. Each is written before the acquirer hears the outcome
 * it stands for, and deleted when the issuer acknowledges it, so a restart between the two does
 * not lose it (DESIGN.md invariant 4).
 */
export type AdviceKind = 'advice' | 'reversal';

export interface StoredAdvice {
  /** Unique per advice: its kind and the original's authorization key. */
  readonly id: string;
  readonly kind: AdviceKind;
  /** The issuer's name in the routing table. */
  readonly issuer: string;
  /**
   * The message as encoded by the interchange codec, kept as those bytes (so a scan of the
   * database sees its text as it is), never with a real card number in it: a
   * token's 0120 keeps the DPAN and chip data (the token service locates the PAN again), a 0420
   * carries no field 2 at all (the issuer finds its original by fields 90 and 41).
   */
  readonly message: Uint8Array;
}

export type AdviceStoreOptions =
  | { readonly kind: 'sqlite'; readonly file: string }
  | ({ readonly kind: 'postgres' } & PostgresEngineOptions);

/** Ids from 8200: they never meet another service's in a shared `store_migrations` table. */
export const networkMigrations: readonly Migration[] = [
  {
    id: 8201,
    name: 'network: advices not yet acknowledged',
    statements: [
      `CREATE TABLE net_advices (advice_id TEXT PRIMARY KEY, kind TEXT NOT NULL, issuer TEXT NOT NULL,
        message {bytes} NOT NULL, created_at TEXT NOT NULL)`,
    ],
  },
];

interface NetworkSchema {
  net_advices: {
    advice_id: string;
    kind: AdviceKind;
    issuer: string;
    message: Uint8Array;
    created_at: string;
  };
}

/**
 * Where the switch keeps its advices until the issuer answers: SQLite (WAL, synchronous=FULL) or
 * PostgreSQL, through @amulet/store's engine. Every write is committed before it resolves.
 */
export class AdviceStore {
  readonly #engine: Engine;
  readonly #db: ReturnType<typeof queryBuilder<NetworkSchema>>;
  readonly #now: () => Date;

  private constructor(engine: Engine, now: () => Date) {
    this.#engine = engine;
    this.#db = queryBuilder<NetworkSchema>(engine.dialect);
    this.#now = now;
  }

  static async open(options: AdviceStoreOptions, now: () => Date = () => new Date()): Promise<AdviceStore> {
    const engine =
      options.kind === 'sqlite'
        ? openSqliteEngine({ file: options.file })
        : await openPostgresEngine(options);
    return new AdviceStore(await migrateOpened(engine, now, networkMigrations), now);
  }

  /** Records an advice; recording one already there (same id) changes nothing. */
  async add(advice: StoredAdvice): Promise<void> {
    const query = this.#db
      .insertInto('net_advices')
      .values({
        advice_id: advice.id,
        kind: advice.kind,
        issuer: advice.issuer,
        message: advice.message,
        created_at: this.#now().toISOString(),
      })
      .onConflict((conflict) => conflict.column('advice_id').doNothing())
      .compile();
    await this.#engine.transaction((q) => q.run(query));
  }

  /** The issuer acknowledged it; acknowledging twice, or an unknown id, changes nothing. */
  async acknowledge(id: string): Promise<void> {
    const query = this.#db.deleteFrom('net_advices').where('advice_id', '=', id).compile();
    await this.#engine.transaction((q) => q.run(query));
  }

  /** Every advice not yet acknowledged, oldest first. */
  async pending(): Promise<StoredAdvice[]> {
    const rows = await this.#engine.read.all<NetworkSchema['net_advices']>(
      this.#db.selectFrom('net_advices').selectAll().orderBy('created_at').orderBy('advice_id').compile(),
    );
    return rows.map((row) => ({
      id: row.advice_id,
      kind: row.kind,
      issuer: row.issuer,
      message: new Uint8Array(row.message),
    }));
  }

  close(): Promise<void> {
    return this.#engine.close();
  }
}
