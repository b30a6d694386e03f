import { sql } from 'kysely';
import { authorizationByCode, type IssuerContext, num, post } from './issuer-context.ts';
import { IssuerError } from './issuer-error.ts';
import { maxAmountMinor, postingLines } from './ledger.ts';

export interface CaptureRequest {
  /** Field 38 of the approval. */
  readonly authorizationCode: string;
  /** The amount cleared: at most the amount held; the rest of the hold is released. */
  readonly amountMinor: number;
}

export type CaptureResult =
  | {
      readonly status: 'captured';
      readonly authorizationCode: string;
      readonly capturedMinor: number;
      readonly releasedMinor: number;
    }
  | {
      readonly status: 'already-captured';
      readonly authorizationCode: string;
      readonly capturedMinor: number;
    }
  | { readonly status: 'not-found'; readonly authorizationCode: string }
  | { readonly status: 'not-held'; readonly authorizationCode: string; readonly state: string }
  | { readonly status: 'amount-invalid'; readonly authorizationCode: string };

/**
 * Clearing: turns a hold into a posting. The authorization leaves 'held' (or 'expired', its hold
 * already given back) with a conditional update first, so a capture racing a reversal, an expiry
 * or another capture of the same authorization has one winner.
 */
export function captureAuthorization(ctx: IssuerContext, request: CaptureRequest): Promise<CaptureResult> {
  const code = request.authorizationCode;
  return ctx.engine.transaction(async (q): Promise<CaptureResult> => {
    const auth = await authorizationByCode(ctx, q, code);
    if (auth === undefined || auth.account_id === null)
      return { status: 'not-found', authorizationCode: code };
    if (auth.state === 'captured')
      return { status: 'already-captured', authorizationCode: code, capturedMinor: num(auth.captured_minor) };
    // An expired hold was given back, but the sale stands: its clearing posts without a hold.
    if (auth.state !== 'held' && auth.state !== 'expired')
      return { status: 'not-held', authorizationCode: code, state: auth.state };
    const held = num(auth.held_minor);
    const ceiling = auth.state === 'held' ? held : num(auth.amount_minor);
    const amount = request.amountMinor;
    if (!Number.isSafeInteger(amount) || amount <= 0 || amount > ceiling || amount > maxAmountMinor)
      return { status: 'amount-invalid', authorizationCode: code };
    const moved = await q.run(
      ctx.db
        .updateTable('issuer_authorizations')
        .set({
          state: 'captured',
          held_minor: 0,
          captured_minor: amount,
          updated_at: ctx.now().toISOString(),
        })
        .where('id', '=', auth.id)
        .where('state', '=', auth.state)
        .compile(),
    );
    if (moved === 0) return { status: 'not-held', authorizationCode: code, state: 'changed' };
    await q.run(
      ctx.db
        .updateTable('issuer_accounts')
        .set({ held_minor: sql`held_minor - ${held}`, balance_minor: sql`balance_minor - ${amount}` })
        .where('id', '=', auth.account_id)
        .compile(),
    );
    await post(
      ctx,
      q,
      'capture',
      auth.id,
      held === 0
        ? postingLines.captureWithoutHold(auth.account_id, amount)
        : postingLines.capture(auth.account_id, held, amount),
    );
    return {
      status: 'captured',
      authorizationCode: code,
      capturedMinor: amount,
      releasedMinor: Math.max(0, held - amount),
    };
  });
}

export interface CaptureBatchResult {
  readonly results: readonly CaptureResult[];
  readonly capturedCount: number;
  readonly capturedMinor: number;
}

/** Most captures in one batch. */
export const maxCaptureBatch = 10_000;

/** A clearing batch: each item captured on its own (one bad item does not stop the rest). */
export async function captureBatch(
  ctx: IssuerContext,
  items: readonly CaptureRequest[],
): Promise<CaptureBatchResult> {
  if (items.length > maxCaptureBatch)
    throw new IssuerError('ERR_ISSUER_INPUT', `a capture batch holds at most ${maxCaptureBatch} items`);
  const results = await Promise.all(items.map((item) => captureAuthorization(ctx, item)));
  let capturedCount = 0;
  let capturedMinor = 0;
  for (const r of results)
    if (r.status === 'captured') {
      capturedCount++;
      capturedMinor += r.capturedMinor;
    }
  return { results, capturedCount, capturedMinor };
}
