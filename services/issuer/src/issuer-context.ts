import type { Hsm } from '@amulet/hsm';
import type { RuleSet, SlidingWindowCounter } from '@amulet/risk';
import type { Engine, Querier } from '@amulet/store';
import { type CompiledQuery, type Kysely, sql } from 'kysely';
import type { IssuerKeys } from './card-protection.ts';
import type { IssuerLogEntry } from './issuer-log.ts';
import type { LedgerLine, PostingKind } from './ledger.ts';
import { prepareQuery } from './prepared-query.ts';
import { newOrderedId, type RandomBytes } from './random-source.ts';
import type { IssuerSchema } from './schema.ts';

/** Everything the issuer's operations run with: storage, HSM, and the injected world. */
export interface IssuerContext {
  readonly engine: Engine;
  readonly db: Kysely<IssuerSchema>;
  readonly hsm: Hsm;
  readonly keys: IssuerKeys;
  readonly now: () => Date;
  readonly random: RandomBytes;
  readonly rules: RuleSet;
  /** Velocity of authorization and ID&V attempts per card; in memory, advisory. */
  readonly velocity: SlidingWindowCounter;
  readonly otpTtlMs: number;
  readonly otpMaxTries: number;
  /** How long an authorization's hold stands before expireHolds releases it. */
  readonly holdExpiryMs: number;
  readonly log: (entry: IssuerLogEntry) => void;
}

export type CardRow = IssuerSchema['issuer_cards'];
export type AccountRow = IssuerSchema['issuer_accounts'];
export type AuthorizationRow = IssuerSchema['issuer_authorizations'];

/** The pg driver gives BIGINT as a string; SQLite gives a number. */
export const num = (value: number | string | null): number => Number(value);

export async function first<R>(q: Querier, query: CompiledQuery): Promise<R | undefined> {
  const rows = await q.all<R>(query);
  return rows[0];
}

const cardByLookupQuery = prepareQuery((db, a: { lookup: Uint8Array }) =>
  db.selectFrom('issuer_cards').selectAll().where('pan_lookup', '=', a.lookup).compile(),
);
const cardByIdQuery = prepareQuery((db, a: { id: string }) =>
  db.selectFrom('issuer_cards').selectAll().where('id', '=', a.id).compile(),
);
const accountByIdQuery = prepareQuery((db, a: { id: string }) =>
  db.selectFrom('issuer_accounts').selectAll().where('id', '=', a.id).compile(),
);
const authorizationByKeyQuery = prepareQuery((db, a: { key: string }) =>
  db.selectFrom('issuer_authorizations').selectAll().where('transaction_key', '=', a.key).compile(),
);
const authorizationByCodeQuery = prepareQuery((db, a: { code: string }) =>
  db.selectFrom('issuer_authorizations').selectAll().where('authorization_code', '=', a.code).compile(),
);

export function cardByLookup(
  ctx: IssuerContext,
  q: Querier,
  lookup: Uint8Array,
): Promise<CardRow | undefined> {
  return first<CardRow>(q, cardByLookupQuery(ctx.db, { lookup }));
}

export function cardById(ctx: IssuerContext, q: Querier, id: string): Promise<CardRow | undefined> {
  return first<CardRow>(q, cardByIdQuery(ctx.db, { id }));
}

export function accountById(ctx: IssuerContext, q: Querier, id: string): Promise<AccountRow | undefined> {
  return first<AccountRow>(q, accountByIdQuery(ctx.db, { id }));
}

export function authorizationByKey(
  ctx: IssuerContext,
  q: Querier,
  key: string,
): Promise<AuthorizationRow | undefined> {
  return first<AuthorizationRow>(q, authorizationByKeyQuery(ctx.db, { key }));
}

export function authorizationByCode(
  ctx: IssuerContext,
  q: Querier,
  code: string,
): Promise<AuthorizationRow | undefined> {
  return first<AuthorizationRow>(q, authorizationByCodeQuery(ctx.db, { code }));
}

const insertPosting = prepareQuery(
  (db, a: { id: string; kind: string; authorizationId: string | null; at: string }) =>
    db
      .insertInto('issuer_postings')
      .values({ id: a.id, kind: a.kind, authorization_id: a.authorizationId, created_at: a.at })
      .compile(),
);
/** Argument names of the entries insert: `account<i>` and `amount<i>` for line i (from 0). */
type EntryArguments = Record<string, string | number | null>;

/** The lines of a posting in one multi-row INSERT, compiled once per line count (2 or 4). */
const insertEntriesByCount = new Map<
  number,
  (db: Kysely<IssuerSchema>, a: EntryArguments) => CompiledQuery
>();
function insertEntries(count: number): (db: Kysely<IssuerSchema>, a: EntryArguments) => CompiledQuery {
  let query = insertEntriesByCount.get(count);
  if (query === undefined) {
    query = prepareQuery((db, a: EntryArguments) =>
      db
        .insertInto('issuer_entries')
        .values(
          Array.from({ length: count }, (_, i) => ({
            posting_id: a.postingId as string,
            line: i + 1,
            ledger_account: a[`account${i}`] as string,
            amount_minor: a[`amount${i}`] as number,
          })),
        )
        .compile(),
    );
    insertEntriesByCount.set(count, query);
  }
  return query;
}

/** Writes one balanced posting and its lines (two statements whatever the number of lines). */
export async function post(
  ctx: IssuerContext,
  q: Querier,
  kind: PostingKind,
  authorizationId: string | null,
  lines: readonly LedgerLine[],
  id?: string,
): Promise<void> {
  const at = ctx.now();
  const postingId = id ?? newOrderedId(ctx.random, 'po', at.getTime());
  await q.run(insertPosting(ctx.db, { id: postingId, kind, authorizationId, at: at.toISOString() }));
  const entries: EntryArguments = { postingId };
  for (const [i, l] of lines.entries()) {
    entries[`account${i}`] = l.account;
    entries[`amount${i}`] = l.amountMinor;
  }
  await q.run(insertEntries(lines.length)(ctx.db, entries));
}

/**
 * Serializes the transactions about one transaction key on PostgreSQL (a transaction-scoped
 * advisory lock), so that an authorization and its reversal racing in two connections cannot both
 * miss each other under READ COMMITTED. SQLite has one writer, so it needs nothing.
 */
export async function lockTransactionKey(ctx: IssuerContext, q: Querier, key: string): Promise<void> {
  if (ctx.engine.dialect !== 'postgres') return;
  await q.all(lockKeyQuery(ctx.db, { key }));
}

const lockKeyQuery = prepareQuery((db, a: { key: string }) =>
  sql`SELECT pg_advisory_xact_lock(8406, hashtext(${a.key}))`.compile(db),
);

/** The UTC day an amount counts towards a card's daily limit. */
export const dayOf = (at: Date): string => at.toISOString().slice(0, 10);
