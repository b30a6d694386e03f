import type { Querier } from '@amulet/store';
import { sql } from 'kysely';
import { type AuthorizationAnswer, answerFromRow } from './authorization-answer.ts';
import { insertAuthorization, onceByKey } from './authorize-purchase.ts';
import { isPan } from './card-number.ts';
import { panLookup } from './card-protection.ts';
import {
  accountById,
  authorizationByCode,
  authorizationByKey,
  cardByLookup,
  type IssuerContext,
  lockTransactionKey,
  num,
  post,
} from './issuer-context.ts';
import { maxAmountMinor, postingLines } from './ledger.ts';
import { newAuthorizationCode } from './random-source.ts';

/** An authorization advice (0120): the network approved on the issuer's behalf (stand-in). */
export interface AdviceRequest {
  readonly transactionKey: string;
  readonly pan: string;
  readonly amountMinor: number;
  readonly currency: string;
  /** Field 38 the network gave at stand-in, kept when it is free. */
  readonly authorizationCode?: string;
}

/**
 * Posts a stand-in approval: the issuer is bound by it, so its hold is posted even when it takes
 * the available balance below the limit (the authorization is then marked over limit). An advice
 * for an unknown card, or for a transaction already reversed, is recorded without a hold. Exactly
 * once per transaction key; every copy is acknowledged.
 */
export async function postAdvice(ctx: IssuerContext, request: AdviceRequest): Promise<AuthorizationAnswer> {
  const stored = await authorizationByKey(ctx, ctx.engine.read, request.transactionKey);
  if (stored !== undefined) return answerFromRow(stored, true);
  const lookup = isPan(request.pan) ? await panLookup(ctx.hsm, ctx.keys, request.pan) : undefined;
  return onceByKey(ctx, request.transactionKey, (q) => adviceTransaction(ctx, q, request, lookup));
}

async function adviceTransaction(
  ctx: IssuerContext,
  q: Querier,
  request: AdviceRequest,
  lookup: Uint8Array | undefined,
): Promise<AuthorizationAnswer> {
  await lockTransactionKey(ctx, q, request.transactionKey);
  const existing = await authorizationByKey(ctx, q, request.transactionKey);
  if (existing !== undefined) return answerFromRow(existing, true);
  const base = {
    kind: 'advice',
    transactionKey: request.transactionKey,
    amountMinor: request.amountMinor,
    currency: request.currency,
    standIn: true,
  } as const;
  const card = lookup === undefined ? undefined : await cardByLookup(ctx, q, lookup);
  const amount = request.amountMinor;
  if (card === undefined || !Number.isSafeInteger(amount) || amount <= 0 || amount > maxAmountMinor)
    return insertAuthorization(ctx, q, {
      ...base,
      ...(card === undefined ? {} : { card }),
      responseCode: '00',
      state: 'unmatched',
      reason: card === undefined ? 'CARD_UNKNOWN' : 'AMOUNT_INVALID',
    });
  const reversed = await q.all(
    ctx.db
      .selectFrom('issuer_reversals')
      .select('original_key')
      .where('original_key', '=', request.transactionKey)
      .compile(),
  );
  if (reversed.length > 0)
    return insertAuthorization(ctx, q, {
      ...base,
      card,
      responseCode: '00',
      state: 'reversed',
      reason: 'REVERSED_BEFORE_ARRIVAL',
    });
  let code = request.authorizationCode;
  if (
    code === undefined ||
    !/^[0-9A-Z]{6}$/.test(code) ||
    (await authorizationByCode(ctx, q, code)) !== undefined
  )
    code = newAuthorizationCode(ctx.random);
  await q.run(
    ctx.db
      .updateTable('issuer_accounts')
      .set({ held_minor: sql`held_minor + ${amount}` })
      .where('id', '=', card.account_id)
      .compile(),
  );
  const account = await accountById(ctx, q, card.account_id);
  const overLimit =
    account !== undefined &&
    num(account.balance_minor) - num(account.held_minor) < -num(account.credit_limit_minor);
  const answer = await insertAuthorization(ctx, q, {
    ...base,
    card,
    responseCode: '00',
    state: 'held',
    heldMinor: amount,
    authorizationCode: code,
    overLimit,
  });
  await post(ctx, q, 'stand-in-hold', answer.authorizationId, postingLines.hold(card.account_id, amount));
  return answer;
}
