import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import {
  type CompiledQuery,
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import pg from 'pg';
import { StoreError } from './errors.ts';
import type { Schema } from './schema.ts';

export type Dialect = 'sqlite' | 'postgres';

/** What repositories run statements through: a connection inside a transaction, or the reader. */
export interface Querier {
  all<R>(query: CompiledQuery): Promise<R[]>;
  /** Runs a statement and returns the number of rows it changed. */
  run(query: CompiledQuery): Promise<number>;
  exec(sql: string): Promise<void>;
}

/**
 * A database behind one interface. Kysely is used only to build and compile queries; the engine
 * executes them, so both dialects share one repository implementation and SQLite keeps control
 * of its transactions (BEGIN IMMEDIATE, savepoints for group commit).
 */
export interface Engine {
  readonly dialect: Dialect;
  readonly db: Kysely<Schema>;
  /** Reads outside any transaction (SQLite: a separate read-only connection that sees only commits). */
  readonly read: Querier;
  transaction<T>(fn: (q: Querier) => Promise<T>): Promise<T>;
  /** Transactions run and commits made so far (with group commit, commits < transactions). */
  stats(): { transactions: number; commits: number };
  close(): Promise<void>;
}

/** A Kysely query builder (compile only, never executes) for any schema in either dialect. */
export function queryBuilder<S>(dialect: Dialect): Kysely<S> {
  return new Kysely<S>({
    dialect: {
      createAdapter: () => (dialect === 'sqlite' ? new SqliteAdapter() : new PostgresAdapter()),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) =>
        dialect === 'sqlite' ? new SqliteIntrospector(db) : new PostgresIntrospector(db),
      createQueryCompiler: () =>
        dialect === 'sqlite' ? new SqliteQueryCompiler() : new PostgresQueryCompiler(),
    },
  });
}

/** SQLite `SQLITE_CONSTRAINT_UNIQUE`/`_PRIMARYKEY`, PostgreSQL SQLSTATE 23505. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** A FIFO lock: the single SQLite write connection is used by one transaction at a time. */
class Mutex {
  #tail: Promise<void> = Promise.resolve();
  async acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.#tail;
    this.#tail = previous.then(() => next);
    await previous;
    return release;
  }
}

function sqliteParams(parameters: readonly unknown[]): unknown[] {
  return parameters.map((p) =>
    p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p,
  );
}

/**
 * A prepared statement that returns rows, in better-sqlite3's raw mode (each row an array) with its
 * column names: building the row objects here costs less than letting the driver do it through
 * the V8 API (3 rows of 14 columns: 11.4 µs per query through the engine against 15.4 µs with the
 * driver's objects, `npm run bench:store`, docs/store.md). A name that appears twice keeps the
 * later value, as the driver's own objects do.
 */
interface RowStatement {
  readonly statement: Database.Statement;
  readonly names: readonly string[];
}

function rowObjects(values: unknown[][], names: readonly string[]): Record<string, unknown>[] {
  const rows = new Array<Record<string, unknown>>(values.length);
  for (let r = 0; r < values.length; r++) {
    const value = values[r]!;
    const row: Record<string, unknown> = {};
    for (let c = 0; c < names.length; c++) row[names[c]!] = value[c];
    rows[r] = row;
  }
  return rows;
}

function sqliteQuerier(connection: Database.Database): Querier {
  const cache = new Map<string, Database.Statement>();
  const statement = (sql: string): Database.Statement => {
    let s = cache.get(sql);
    if (s === undefined) {
      s = connection.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  };
  const rowCache = new Map<string, RowStatement>();
  const rowStatement = (sql: string): RowStatement | undefined => {
    let r = rowCache.get(sql);
    if (r === undefined) {
      // A statement without rows (an UPDATE given to all()) keeps the driver's own error.
      const s = connection.prepare(sql);
      if (!s.reader) return undefined;
      r = { statement: s.raw(true), names: s.columns().map((c) => c.name) };
      rowCache.set(sql, r);
    }
    return r;
  };
  return {
    all: async <R>(query: CompiledQuery) => {
      const parameters = sqliteParams(query.parameters);
      const r = rowStatement(query.sql);
      if (r === undefined) return statement(query.sql).all(...parameters) as R[];
      return rowObjects(r.statement.all(...parameters) as unknown[][], r.names) as R[];
    },
    run: async (query) => statement(query.sql).run(...sqliteParams(query.parameters)).changes,
    exec: async (sql) => {
      connection.exec(sql);
    },
  };
}

export interface SqliteEngineOptions {
  readonly file: string;
  /** Batch concurrent transactions into one commit (one fsync). Default true. */
  readonly groupCommit?: boolean;
  /** Most transactions in one group commit. Default 1024. */
  readonly maxBatch?: number;
  readonly busyTimeoutMs?: number;
  /**
   * Reads started in one event-loop turn share one read transaction, so they pay for the WAL
   * read lock (two fcntl calls) once instead of once each. The snapshot ends at the next
   * setImmediate and before every commit of this engine, so a read that follows an answered write
   * of this engine sees it; a commit by another connection to the file may stay unseen until the
   * turn ends. Default false.
   */
  readonly sharedReadSnapshots?: boolean;
  /**
   * With `sharedReadSnapshots`: how long a shared snapshot may stay open across turns of the event
   * loop while this engine commits nothing (each of its commits still ends it first). A request
   * that arrives in a later turn then reads without taking the WAL read lock again: about 8 µs
   * less per read on the development machine when each turn has one request. A commit by another
   * connection to the file stays unseen for at most this long after the turn that began the
   * snapshot. Default 0: the snapshot ends when the turn does.
   */
  readonly readSnapshotMs?: number;
}

interface Pending {
  fn: (q: Querier) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export function openSqliteEngine(options: SqliteEngineOptions): Engine {
  const busy = options.busyTimeoutMs ?? 5000;
  let writer: Database.Database;
  let reader: Database.Database;
  try {
    writer = new Database(options.file);
    writer.pragma('journal_mode = WAL');
    // SQLite docs, "PRAGMA synchronous": FULL syncs the WAL on every commit, so a commit survives power loss.
    writer.pragma('synchronous = FULL');
    writer.pragma(`busy_timeout = ${busy}`);
    writer.pragma('foreign_keys = ON');
    reader = new Database(options.file, { readonly: true });
    reader.pragma(`busy_timeout = ${busy}`);
  } catch (cause) {
    throw new StoreError('ERR_STORE_UNAVAILABLE', 'the SQLite database could not be opened', { cause });
  }
  const w = sqliteQuerier(writer);
  const plainRead = sqliteQuerier(reader);
  const beginRead = reader.prepare('BEGIN');
  const endRead = reader.prepare('COMMIT');
  let readOpen = false;
  const snapshotMs = Math.max(0, options.readSnapshotMs ?? 0);
  const endSnapshot = (): void => {
    if (!readOpen) return;
    readOpen = false;
    if (reader.inTransaction) endRead.run();
  };
  const inSnapshot = <T>(work: () => Promise<T>): Promise<T> => {
    if (!readOpen) {
      beginRead.run();
      readOpen = true;
      if (snapshotMs > 0) setTimeout(endSnapshot, snapshotMs);
      else setImmediate(endSnapshot);
    }
    return work();
  };
  const read: Querier = options.sharedReadSnapshots
    ? {
        all: (query) => inSnapshot(() => plainRead.all(query)),
        run: (query) => inSnapshot(() => plainRead.run(query)),
        exec: (sql) => inSnapshot(() => plainRead.exec(sql)),
      }
    : plainRead;
  const savepoint = writer.prepare('SAVEPOINT op');
  const releaseSavepoint = writer.prepare('RELEASE op');
  const rollbackToSavepoint = writer.prepare('ROLLBACK TO op');
  const mutex = new Mutex();
  const groupCommit = options.groupCommit ?? true;
  const maxBatch = options.maxBatch ?? 1024;
  const queue: Pending[] = [];
  let scheduled = false;
  let closed = false;
  let transactions = 0;
  let commits = 0;

  const single = async <T>(fn: (q: Querier) => Promise<T>): Promise<T> => {
    const release = await mutex.acquire();
    try {
      // IMMEDIATE takes the write lock at BEGIN, so another process cannot make us fail mid-transaction.
      writer.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(w);
        // A shared read snapshot ends first: later reads see this commit, and its checkpoint is not held back.
        endSnapshot();
        writer.exec('COMMIT');
        commits++;
        return result;
      } catch (error) {
        if (writer.inTransaction) writer.exec('ROLLBACK');
        throw error;
      }
    } finally {
      release();
    }
  };

  /**
   * Group commit: every transaction submitted before the writer next runs goes into one
   * BEGIN IMMEDIATE … COMMIT, each inside its own savepoint, so one failing operation rolls back
   * only itself. Callers are resolved after the COMMIT (after its fsync), never before.
   */
  const flush = async (): Promise<void> => {
    scheduled = false;
    const release = await mutex.acquire();
    const batch = queue.splice(0, maxBatch);
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      writer.exec('BEGIN IMMEDIATE');
      for (const item of batch) {
        savepoint.run();
        try {
          const value = await item.fn(w);
          releaseSavepoint.run();
          outcomes.push({ ok: true, value });
        } catch (error) {
          rollbackToSavepoint.run();
          releaseSavepoint.run();
          outcomes.push({ ok: false, value: error });
        }
      }
      endSnapshot();
      writer.exec('COMMIT');
      commits++;
    } catch (error) {
      if (writer.inTransaction) writer.exec('ROLLBACK');
      for (const item of batch) item.reject(error);
      return;
    } finally {
      release();
      if (queue.length > 0 && !scheduled) {
        scheduled = true;
        setImmediate(() => void flush());
      }
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.value);
    });
  };

  return {
    dialect: 'sqlite',
    db: queryBuilder<Schema>('sqlite'),
    read,
    transaction: <T>(fn: (q: Querier) => Promise<T>): Promise<T> => {
      if (closed) return Promise.reject(new StoreError('ERR_STORE_CLOSED', 'the store is closed'));
      transactions++;
      if (!groupCommit) return single(fn);
      return new Promise<T>((resolve, reject) => {
        queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(() => void flush());
        }
      });
    },
    stats: () => ({ transactions, commits }),
    close: async () => {
      if (closed) return;
      closed = true;
      // Let queued and running transactions finish first.
      while (queue.length > 0 || scheduled) await new Promise((r) => setImmediate(r));
      const release = await mutex.acquire();
      endSnapshot();
      reader.close();
      writer.close();
      release();
    },
  };
}

export interface PostgresEngineOptions {
  readonly host?: string;
  readonly port?: number;
  readonly user?: string;
  readonly password?: string;
  readonly database: string;
  /** Pool size. Default 10. */
  readonly max?: number;
}

/**
 * PostgreSQL named prepared statements (protocol Parse once per connection, then Bind/Execute):
 * node-pg prepares a named query on a connection the first time it runs there and reuses it
 * after, so the server parses and plans each statement once per connection instead of on every
 * call (the token service's validations on PostgreSQL went from about 800/s to 1,500-1,900/s).
 * The name is derived from the SQL text, so one text always has one name.
 */
const statementNames = new Map<string, string>();
function named(query: CompiledQuery): pg.QueryConfig {
  let name = statementNames.get(query.sql);
  if (name === undefined) {
    name = `amulet_${createHash('sha256').update(query.sql).digest('base64url').slice(0, 32)}`;
    statementNames.set(query.sql, name);
  }
  return { name, text: query.sql, values: query.parameters as unknown[] };
}

/**
 * A statement prepared before another connection changed its table (a column added by a newer
 * version's migration) fails with 0A000, "cached plan must not change result type": it runs again
 * unprepared, which reads the table as it is now.
 */
async function runNamed(client: pg.Pool | pg.PoolClient, query: CompiledQuery): Promise<pg.QueryResult> {
  try {
    return await client.query(named(query));
  } catch (error) {
    if ((error as { code?: unknown }).code !== '0A000') throw error;
    return client.query(query.sql, query.parameters as unknown[]);
  }
}

function pgQuerier(client: pg.Pool | pg.PoolClient): Querier {
  return {
    all: async <R>(query: CompiledQuery) => (await runNamed(client, query)).rows as R[],
    run: async (query) => (await runNamed(client, query)).rowCount ?? 0,
    exec: async (sql) => {
      await client.query(sql);
    },
  };
}

export function postgresConnectionDefaults(): { host: string; port: number; user: string } {
  return {
    host: process.env.PGHOST ?? '127.0.0.1',
    port: Number(process.env.PGPORT ?? 5432),
    user: process.env.PGUSER ?? 'postgres',
  };
}

export async function openPostgresEngine(options: PostgresEngineOptions): Promise<Engine> {
  const defaults = postgresConnectionDefaults();
  const host = options.host ?? defaults.host;
  const port = options.port ?? defaults.port;
  const pool = new pg.Pool({
    host,
    port,
    user: options.user ?? defaults.user,
    database: options.database,
    max: options.max ?? 10,
    ...(options.password === undefined ? {} : { password: options.password }),
  });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it on next use.
  });
  try {
    await pool.query('SELECT 1');
  } catch (cause) {
    await pool.end().catch(() => undefined);
    throw new StoreError(
      'ERR_STORE_UNAVAILABLE',
      `PostgreSQL is not reachable at ${host}:${port} (set PGHOST/PGPORT/PGUSER)`,
      { cause },
    );
  }
  let closed = false;
  let transactions = 0;
  let commits = 0;
  return {
    dialect: 'postgres',
    db: queryBuilder<Schema>('postgres'),
    read: pgQuerier(pool),
    transaction: async <T>(fn: (q: Querier) => Promise<T>): Promise<T> => {
      if (closed) throw new StoreError('ERR_STORE_CLOSED', 'the store is closed');
      transactions++;
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        try {
          const result = await fn(pgQuerier(client));
          await client.query('COMMIT');
          commits++;
          return result;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      } finally {
        client.release();
      }
    },
    stats: () => ({ transactions, commits }),
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
