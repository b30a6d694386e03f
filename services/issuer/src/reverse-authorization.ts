import { isUniqueViolation, type Querier } from '@amulet/store';
import { sql } from 'kysely';
import {
  type AuthorizationRow,
  authorizationByKey,
  first,
  type IssuerContext,
  lockTransactionKey,
  num,
  post,
} from './issuer-context.ts';
import { postingLines } from './ledger.ts';
import type { IssuerSchema } from './schema.ts';

/** A reversal (0400) or reversal advice (0420, repeated as 0421) of an earlier authorization. */
export interface ReversalRequest {
  /** The transaction key of the original, from field 90 and the reversal's own field 41. */
  readonly originalKey: string;
  readonly mti: string;
}

export type ReversalOutcome =
  /** The original's hold was released. */
  | 'released'
  /** The original held nothing (declined, a verification, already released): nothing to do. */
  | 'nothing-held'
  /** The original was captured before the reversal came; the reversal is recorded for clearing. */
  | 'already-captured'
  /** No original with this key: recorded, so that a late original is declined. */
  | 'original-unknown';

export interface ReversalAnswer {
  readonly outcome: ReversalOutcome;
  readonly releasedMinor: number;
  /** True when an earlier reversal of the same original already had the effect. */
  readonly repeated: boolean;
}

type ReversalRow = IssuerSchema['issuer_reversals'];

const fromRow = (row: ReversalRow, repeated: boolean): ReversalAnswer => ({
  outcome: row.outcome as ReversalOutcome,
  releasedMinor: num(row.released_minor),
  repeated,
});

function reversalByKey(ctx: IssuerContext, q: Querier, key: string): Promise<ReversalRow | undefined> {
  return first<ReversalRow>(
    q,
    ctx.db.selectFrom('issuer_reversals').selectAll().where('original_key', '=', key).compile(),
  );
}

/**
 * Moves a held authorization to `to` and gives its hold back: the account's holds, the card's
 * spend of the day (when it is still that day), and a 'release' posting. A conditional update
 * first, so whatever else moves it out of 'held' at the same time (a capture, a reversal, an
 * expiry) has one winner. The amount released, or undefined when it was no longer held.
 */
export async function releaseHold(
  ctx: IssuerContext,
  q: Querier,
  original: AuthorizationRow,
  to: 'reversed' | 'expired',
): Promise<number | undefined> {
  if (original.state !== 'held') return undefined;
  const moved = await q.run(
    ctx.db
      .updateTable('issuer_authorizations')
      .set({ state: to, held_minor: 0, updated_at: ctx.now().toISOString() })
      .where('id', '=', original.id)
      .where('state', '=', 'held')
      .compile(),
  );
  if (moved !== 1 || original.account_id === null) return undefined;
  const released = num(original.held_minor);
  if (original.kind === 'purchase' && original.card_id !== null)
    await q.run(
      ctx.db
        .updateTable('issuer_cards')
        .set({ spend_day_total_minor: sql`spend_day_total_minor - ${released}` })
        .where('id', '=', original.card_id)
        .where('spend_day', '=', original.spend_day)
        .compile(),
    );
  await q.run(
    ctx.db
      .updateTable('issuer_accounts')
      .set({ held_minor: sql`held_minor - ${released}` })
      .where('id', '=', original.account_id)
      .compile(),
  );
  await post(ctx, q, 'release', original.id, postingLines.release(original.account_id, released));
  return released;
}

/**
 * Releases the original's hold exactly once: the first reversal of an original records its
 * outcome under the original's key; every later one (0421 repeats, a 0400 and a 0420 for the same
 * original) finds it and has no effect. A reversal racing a capture: whichever moves the
 * authorization out of 'held' first wins.
 */
export async function reverseAuthorization(
  ctx: IssuerContext,
  request: ReversalRequest,
): Promise<ReversalAnswer> {
  const stored = await reversalByKey(ctx, ctx.engine.read, request.originalKey);
  if (stored !== undefined) return fromRow(stored, true);
  try {
    return await ctx.engine.transaction(async (q) => {
      await lockTransactionKey(ctx, q, request.originalKey);
      const existing = await reversalByKey(ctx, q, request.originalKey);
      if (existing !== undefined) return fromRow(existing, true);
      const original = await authorizationByKey(ctx, q, request.originalKey);
      let outcome: ReversalOutcome = 'original-unknown';
      let released = 0;
      if (original !== undefined) {
        const freed = await releaseHold(ctx, q, original, 'reversed');
        if (freed !== undefined) {
          released = freed;
          outcome = 'released';
        } else {
          const now = await authorizationByKey(ctx, q, request.originalKey);
          outcome = now?.state === 'captured' ? 'already-captured' : 'nothing-held';
        }
      }
      const row: ReversalRow = {
        original_key: request.originalKey,
        reversal_mti: request.mti,
        outcome,
        released_minor: released,
        created_at: ctx.now().toISOString(),
      };
      await q.run(ctx.db.insertInto('issuer_reversals').values(row).compile());
      return fromRow(row, false);
    });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const raced = await reversalByKey(ctx, ctx.engine.read, request.originalKey);
    if (raced === undefined) throw error;
    return fromRow(raced, true);
  }
}
