import { sql } from 'kysely';
import { type AuthorizationRow, type IssuerContext, num } from './issuer-context.ts';
import { releaseHold } from './reverse-authorization.ts';

export interface HoldExpiry {
  /** Authorizations whose hold was released by this call. */
  readonly expired: number;
  readonly releasedMinor: number;
  /** True when there may be more to do now: call again. */
  readonly more: boolean;
}

/** The span of creation times one call looks at, so no call scans without bound. */
const WINDOW_MS = 10 * 60_000;

/**
 * The smallest authorization id of a millisecond: ids are `au_`, twelve hex digits of the creation
 * time and a random part (newOrderedId), so they sort by creation time.
 */
const idAt = (ms: number): string => `au_${Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0')}`;
const timeOf = (id: string, otherwise: number): number => {
  const ms = Number.parseInt(id.slice(3, 15), 16);
  return id.startsWith('au_') && Number.isSafeInteger(ms) ? ms : otherwise;
};

/**
 * Releases the holds that have stood longer than `ctx.holdExpiryMs`, oldest first, at most `limit`
 * in one transaction. A hold nobody reverses or captures (a reversal lost on the way, a sale never
 * cleared) must not keep the cardholder's money forever. Each goes to 'expired' with a 'release'
 * posting, exactly once: a reversal or a capture racing it finds it no longer held (releaseHold).
 * A capture that comes later still posts (captureAuthorization): the sale happened, only the hold
 * lapsed.
 *
 * The authorization path pays nothing for this (no index on state or age): the sweep walks the
 * primary key, whose ids sort by creation time, through windows of creation time (each starting at
 * the next authorization, so empty stretches cost nothing), and keeps in `issuer_hold_sweep` the
 * time before which every authorization has been looked at. Each authorization is looked at once,
 * when its hold comes due.
 */
export async function expireHolds(ctx: IssuerContext, limit: number): Promise<HoldExpiry> {
  const none: HoldExpiry = { expired: 0, releasedMinor: 0, more: false };
  const cutoffMs = ctx.now().getTime() - ctx.holdExpiryMs;
  const read = ctx.engine.read;
  const cursor = await read.all<{ swept_before: number | string }>(
    ctx.db.selectFrom('issuer_hold_sweep').select('swept_before').where('id', '=', 1).compile(),
  );
  const sweptBefore = cursor[0] === undefined ? 0 : num(cursor[0].swept_before);
  if (sweptBefore >= cutoffMs) return none;
  // The window starts at the first authorization not yet looked at, so a stretch of time with
  // none (a quiet night, or the years before the first one) is crossed in one step.
  const next = await read.all<{ id: string }>(
    ctx.db
      .selectFrom('issuer_authorizations')
      .select('id')
      .where('id', '>=', idAt(sweptBefore))
      .orderBy('id')
      .limit(1)
      .compile(),
  );
  if (next[0] === undefined) return none;
  const from = Math.max(sweptBefore, timeOf(next[0].id, sweptBefore));
  if (from >= cutoffMs) return none;
  const to = Math.min(cutoffMs, from + WINDOW_MS);
  const heldIn = ctx.db
    .selectFrom('issuer_authorizations')
    .selectAll()
    .where('id', '>=', idAt(from))
    .where('id', '<', idAt(to))
    .where(sql<boolean>`state = 'held'`)
    .orderBy('id')
    .limit(limit + 1)
    .compile();
  return ctx.engine.transaction(async (q) => {
    const due = await q.all<AuthorizationRow>(heldIn);
    let expired = 0;
    let releasedMinor = 0;
    for (const row of due.slice(0, limit)) {
      const released = await releaseHold(ctx, q, row, 'expired');
      if (released === undefined) continue;
      expired++;
      releasedMinor += released;
    }
    // The window is done when it held no more than the limit; else the next call goes on in it.
    const done = due.length <= limit;
    if (done)
      await q.run(
        ctx.db
          .insertInto('issuer_hold_sweep')
          .values({ id: 1, swept_before: to })
          .onConflict((oc) => oc.column('id').doUpdateSet({ swept_before: to }))
          .compile(),
      );
    return { expired, releasedMinor, more: !done || to < cutoffMs };
  });
}
