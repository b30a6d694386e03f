import { type Engine, openPostgresEngine, openSqliteEngine, type Querier } from './engine.ts';
import { StoreError } from './errors.ts';
import { migrate } from './migrations.ts';
import {
  AtcRepository,
  AuditRepository,
  BinRangeRepository,
  type Clock,
  IdempotencyRepository,
  IssuerRepository,
  RequestorRepository,
  VaultRepository,
} from './repositories.ts';
import { TokenCardRepository, WebhookRepository } from './tsp-repositories.ts';

export type { Dialect, Engine, Querier } from './engine.ts';
export {
  isUniqueViolation,
  openPostgresEngine,
  openSqliteEngine,
  type PostgresEngineOptions,
  postgresConnectionDefaults,
  queryBuilder,
  type SqliteEngineOptions,
} from './engine.ts';
export { StoreError } from './errors.ts';
export { type Migration, migrate, migrateOpened, migrations } from './migrations.ts';
export {
  type AtcCommitRequest,
  AtcRepository,
  AuditRepository,
  auditGenesis,
  auditHash,
  BinRangeRepository,
  type Clock,
  IdempotencyRepository,
  IssuerRepository,
  type NewToken,
  RequestorRepository,
  type StatusRequest,
  type StatusResult,
  VaultRepository,
} from './repositories.ts';
export { findClearPans, luhnValid, outsideHexWords, type PanHit } from './scanner.ts';
export { TokenCardRepository, WebhookRepository } from './tsp-repositories.ts';
export type * from './types.ts';

export type StoreOptions =
  | {
      readonly kind: 'sqlite';
      readonly file: string;
      /** Batch concurrent transactions into one commit. Default true. */
      readonly groupCommit?: boolean;
      readonly maxBatch?: number;
      /**
       * Reads started in one event-loop turn share one read transaction (see the engine's option
       * of the same name). Writes are unaffected: every transaction still reads the latest commit,
       * so `atc.commit` re-checks the token's status and version against what committed. Default false.
       */
      readonly sharedReadSnapshots?: boolean;
      readonly now?: Clock;
    }
  | {
      readonly kind: 'postgres';
      /** Defaults: PGHOST or 127.0.0.1, PGPORT or 5432, PGUSER or postgres. */
      readonly host?: string;
      readonly port?: number;
      readonly user?: string;
      readonly password?: string;
      readonly database: string;
      readonly max?: number;
      readonly now?: Clock;
    };

/** Every repository, bound either to the store (each write commits alone) or to one transaction. */
export interface Repositories {
  readonly requestors: RequestorRepository;
  readonly binRanges: BinRangeRepository;
  readonly issuers: IssuerRepository;
  readonly vault: VaultRepository;
  readonly atc: AtcRepository;
  readonly idempotency: IdempotencyRepository;
  readonly audit: AuditRepository;
  readonly cards: TokenCardRepository;
  readonly webhooks: WebhookRepository;
}

export interface Store extends Repositories {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs `fn` in one transaction; everything it does through `tx` commits or rolls back together. */
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T>;
  /** Transactions run and commits made since open (group commit makes commits fewer). */
  stats(): { transactions: number; commits: number };
  close(): Promise<void>;
}

function repositories(engine: Engine, now: Clock, q: Querier | undefined): Repositories {
  return {
    requestors: new RequestorRepository(engine, now, q),
    binRanges: new BinRangeRepository(engine, now, q),
    issuers: new IssuerRepository(engine, now, q),
    vault: new VaultRepository(engine, now, q),
    atc: new AtcRepository(engine, now, q),
    idempotency: new IdempotencyRepository(engine, now, q),
    audit: new AuditRepository(engine, now, q),
    cards: new TokenCardRepository(engine, now, q),
    webhooks: new WebhookRepository(engine, now, q),
  };
}

/**
 * Opens (and migrates) a store. The store never sees a clear PAN: the caller (the token service,
 * through its HSM) encrypts the PAN, wraps the data key and computes the keyed lookup hash.
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  const now = options.now ?? (() => new Date());
  const engine =
    options.kind === 'sqlite'
      ? openSqliteEngine({
          file: options.file,
          ...(options.groupCommit === undefined ? {} : { groupCommit: options.groupCommit }),
          ...(options.maxBatch === undefined ? {} : { maxBatch: options.maxBatch }),
          ...(options.sharedReadSnapshots === undefined
            ? {}
            : { sharedReadSnapshots: options.sharedReadSnapshots }),
        })
      : await openPostgresEngine(options);
  try {
    await migrate(engine, now);
  } catch (cause) {
    await engine.close().catch(() => undefined);
    if (cause instanceof StoreError) throw cause;
    throw new StoreError('ERR_STORE_UNAVAILABLE', 'the store could not be migrated', { cause });
  }
  return {
    dialect: engine.dialect,
    ...repositories(engine, now, undefined),
    transaction: (fn) => engine.transaction((q) => fn(repositories(engine, now, q))),
    stats: () => engine.stats(),
    close: () => engine.close(),
  };
}
