import { evaluateRisk, type Features, velocityFeatures } from '@amulet/risk';
import { isUniqueViolation, type Querier } from '@amulet/store';
import { sql } from 'kysely';
import { type AuthorizationAnswer, answerFromRow, encodeReasons } from './authorization-answer.ts';
import { isExpired, isPan } from './card-number.ts';
import { panLookup } from './card-protection.ts';
import { type DecisionReason, decisionReasons } from './decision-reasons.ts';
import {
  type AccountRow,
  type AuthorizationRow,
  accountById,
  authorizationByKey,
  type CardRow,
  cardByLookup,
  dayOf,
  type IssuerContext,
  lockTransactionKey,
  num,
  post,
} from './issuer-context.ts';
import { IssuerError } from './issuer-error.ts';
import { maxAmountMinor, postingLines } from './ledger.ts';
import { prepareQuery } from './prepared-query.ts';
import { newAuthorizationCode, newId } from './random-source.ts';

/** A purchase authorization (0100, field 3 '000000') as the issuer reads it. */
export interface PurchaseRequest {
  /** @amulet/contracts transactionKey: the same for every retransmission. */
  readonly transactionKey: string;
  readonly pan: string;
  readonly amountMinor: number;
  /** ISO 4217 numeric (field 49). */
  readonly currency: string;
  /** Field 14, YYMM, when the request carries it. */
  readonly expiry?: string;
  readonly merchantCategoryCode?: string;
  readonly posEntryMode?: string;
}

const statusReason: Record<string, DecisionReason> = {
  blocked: 'CARD_BLOCKED',
  lost: 'CARD_LOST',
  closed: 'CARD_CLOSED',
};

/** The card checks every request makes, in the documented order. */
export function cardCheck(
  card: CardRow | undefined,
  expiry: string | undefined,
  now: Date,
): DecisionReason | undefined {
  if (card === undefined) return 'CARD_UNKNOWN';
  const byStatus = statusReason[card.status];
  if (byStatus !== undefined) return byStatus;
  if (isExpired(card.expiry, now)) return 'CARD_EXPIRED';
  if (expiry !== undefined && expiry !== card.expiry) return 'EXPIRY_MISMATCH';
  return undefined;
}

export interface InsertAuthorization {
  readonly kind: 'purchase' | 'verification' | 'otp' | 'advice';
  readonly transactionKey: string;
  readonly card?: CardRow;
  readonly amountMinor: number;
  readonly currency: string;
  readonly responseCode: string;
  readonly reason?: DecisionReason;
  readonly riskReasons?: readonly string[];
  readonly state: 'declined' | 'held' | 'answered' | 'reversed' | 'unmatched';
  readonly heldMinor?: number;
  readonly authorizationCode?: string;
  readonly standIn?: boolean;
  readonly overLimit?: boolean;
}

const insertAuthorizationQuery = prepareQuery((db, r: AuthorizationRow) =>
  db
    .insertInto('issuer_authorizations')
    .values({
      id: r.id,
      transaction_key: r.transaction_key,
      kind: r.kind,
      authorization_code: r.authorization_code,
      card_id: r.card_id,
      account_id: r.account_id,
      amount_minor: r.amount_minor,
      held_minor: r.held_minor,
      captured_minor: r.captured_minor,
      currency: r.currency,
      response_code: r.response_code,
      state: r.state,
      reasons: r.reasons,
      stand_in: r.stand_in,
      over_limit: r.over_limit,
      spend_day: r.spend_day,
      created_at: r.created_at,
      updated_at: r.updated_at,
    })
    .compile(),
);

const reversalExistsQuery = prepareQuery((db, a: { key: string }) =>
  db.selectFrom('issuer_reversals').select('original_key').where('original_key', '=', a.key).compile(),
);

/** Daily limit: counts the amount towards the card's day, only when it fits. */
const spendTodayQuery = prepareQuery((db, a: { cardId: string; day: string; amount: number }) => {
  const spentToday = sql<number>`(CASE WHEN spend_day = ${a.day} THEN spend_day_total_minor ELSE 0 END)`;
  return db
    .updateTable('issuer_cards')
    .set({ spend_day: a.day, spend_day_total_minor: sql`${spentToday} + ${a.amount}` })
    .where('id', '=', a.cardId)
    .where(sql<boolean>`(daily_limit_minor IS NULL OR ${spentToday} + ${a.amount} <= daily_limit_minor)`)
    .compile();
});

const unspendQuery = prepareQuery((db, a: { cardId: string; amount: number }) =>
  db
    .updateTable('issuer_cards')
    .set({ spend_day_total_minor: sql`spend_day_total_minor - ${a.amount}` })
    .where('id', '=', a.cardId)
    .compile(),
);

/** The hold: only when the available balance stays at or above minus the credit limit. */
const holdQuery = prepareQuery((db, a: { accountId: string; amount: number }) =>
  db
    .updateTable('issuer_accounts')
    .set({
      held_minor: sql`held_minor + ${a.amount}`,
      history_count: sql`history_count + 1`,
      history_sum_minor: sql`history_sum_minor + ${a.amount}`,
      history_max_minor: sql`(CASE WHEN history_max_minor < ${a.amount} THEN ${a.amount} ELSE history_max_minor END)`,
    })
    .where('id', '=', a.accountId)
    .where(sql<boolean>`balance_minor - held_minor - ${a.amount} >= -credit_limit_minor`)
    .compile(),
);

/** Records a request's outcome under its transaction key (the unique key that makes repeats harmless). */
export async function insertAuthorization(
  ctx: IssuerContext,
  q: Querier,
  input: InsertAuthorization,
): Promise<AuthorizationAnswer> {
  const at = ctx.now();
  const row = {
    id: newId(ctx.random, 'au'),
    transaction_key: input.transactionKey,
    kind: input.kind,
    authorization_code: input.authorizationCode ?? null,
    card_id: input.card?.id ?? null,
    account_id: input.card?.account_id ?? null,
    amount_minor: Number.isSafeInteger(input.amountMinor) ? input.amountMinor : 0,
    held_minor: input.heldMinor ?? 0,
    captured_minor: 0,
    currency: input.currency,
    response_code: input.responseCode,
    state: input.state,
    reasons: encodeReasons(input.reason, input.riskReasons ?? []),
    stand_in: input.standIn === true ? 1 : 0,
    over_limit: input.overLimit === true ? 1 : 0,
    spend_day: dayOf(at),
    created_at: at.toISOString(),
    updated_at: at.toISOString(),
  };
  await q.run(insertAuthorizationQuery(ctx.db, row));
  return answerFromRow(row, false);
}

/** The risk features of a purchase, from the request, the account's history and the card's velocity. */
function purchaseFeatures(
  ctx: IssuerContext,
  request: PurchaseRequest,
  card: CardRow,
  account: AccountRow,
  atMs: number,
): Features {
  const count = num(account.history_count);
  return {
    amountMinor: request.amountMinor,
    currency: request.currency,
    accountHistoryCount: count,
    accountAverageAmountMinor: count === 0 ? 0 : Math.floor(num(account.history_sum_minor) / count),
    accountMaxAmountMinor: num(account.history_max_minor),
    ...(request.merchantCategoryCode === undefined
      ? {}
      : { merchantCategoryCode: request.merchantCategoryCode }),
    ...(request.posEntryMode === undefined ? {} : { posEntryMode: request.posEntryMode }),
    ...velocityFeatures(ctx.velocity, 'card', `purchase:${card.id}`, atMs, ['1m', '1h', '24h']),
    ...velocityFeatures(ctx.velocity, 'account', `purchase:${account.id}`, atMs, ['1m', '1h', '24h']),
  };
}

async function purchaseTransaction(
  ctx: IssuerContext,
  q: Querier,
  request: PurchaseRequest,
  lookup: Uint8Array | undefined,
): Promise<AuthorizationAnswer> {
  await lockTransactionKey(ctx, q, request.transactionKey);
  const existing = await authorizationByKey(ctx, q, request.transactionKey);
  if (existing !== undefined) return answerFromRow(existing, true);
  const now = ctx.now();
  const base = {
    kind: 'purchase',
    transactionKey: request.transactionKey,
    amountMinor: request.amountMinor,
    currency: request.currency,
  } as const;
  const decline = (reason: DecisionReason, card?: CardRow, riskReasons: readonly string[] = []) =>
    insertAuthorization(ctx, q, {
      ...base,
      ...(card === undefined ? {} : { card }),
      responseCode: decisionReasons[reason].code,
      reason,
      riskReasons,
      state: 'declined',
    });

  const reversed = await q.all(reversalExistsQuery(ctx.db, { key: request.transactionKey }));
  if (reversed.length > 0) return decline('REVERSED_BEFORE_ARRIVAL');
  const card = lookup === undefined ? undefined : await cardByLookup(ctx, q, lookup);
  const cardReason = cardCheck(card, request.expiry, now);
  if (cardReason !== undefined || card === undefined) return decline(cardReason ?? 'CARD_UNKNOWN', card);
  const account = await accountById(ctx, q, card.account_id);
  if (account === undefined) throw new IssuerError('ERR_ISSUER_NOT_FOUND', 'the card has no account');
  if (request.currency !== account.currency) return decline('CURRENCY_MISMATCH', card);
  const amount = request.amountMinor;
  if (!Number.isSafeInteger(amount) || amount <= 0 || amount > maxAmountMinor)
    return decline('AMOUNT_INVALID', card);
  if (card.per_transaction_limit_minor !== null && amount > num(card.per_transaction_limit_minor))
    return decline('TRANSACTION_LIMIT', card);

  const atMs = now.getTime();
  ctx.velocity.record(`purchase:${card.id}`, atMs);
  ctx.velocity.record(`purchase:${account.id}`, atMs);
  const risk = evaluateRisk(ctx.rules, purchaseFeatures(ctx, request, card, account, atMs));
  if (risk.decision === 'decline') return decline('RISK_DECLINE', card, risk.reasons);

  // Daily limit, then funds: each a conditional update, so concurrent authorizations on one card
  // or account cannot both pass a check that only one of them fits (the row lock serializes them).
  const daily = await q.run(spendTodayQuery(ctx.db, { cardId: card.id, day: dayOf(now), amount }));
  if (daily === 0) return decline('DAILY_LIMIT', card, risk.reasons);
  const held = await q.run(holdQuery(ctx.db, { accountId: account.id, amount }));
  if (held === 0) {
    await q.run(unspendQuery(ctx.db, { cardId: card.id, amount }));
    return decline('INSUFFICIENT_FUNDS', card, risk.reasons);
  }
  const answer = await insertAuthorization(ctx, q, {
    ...base,
    card,
    responseCode: '00',
    riskReasons: risk.reasons,
    state: 'held',
    heldMinor: amount,
    authorizationCode: newAuthorizationCode(ctx.random),
  });
  await post(ctx, q, 'hold', answer.authorizationId, postingLines.hold(account.id, amount));
  return answer;
}

/**
 * Runs one transaction that records its outcome under the transaction key. A unique violation
 * means a concurrent copy (or an authorization code collision) won: the stored answer is read back;
 * a code collision is tried again with a new code.
 */
export async function onceByKey(
  ctx: IssuerContext,
  key: string,
  work: (q: Querier) => Promise<AuthorizationAnswer>,
): Promise<AuthorizationAnswer> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await ctx.engine.transaction(work);
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= 3) throw error;
      const stored = await authorizationByKey(ctx, ctx.engine.read, key);
      if (stored !== undefined) return answerFromRow(stored, true);
    }
  }
}

/** Decides a purchase and, when approved, holds its amount: exactly once per transaction key. */
export async function authorizePurchase(
  ctx: IssuerContext,
  request: PurchaseRequest,
): Promise<AuthorizationAnswer> {
  const stored = await authorizationByKey(ctx, ctx.engine.read, request.transactionKey);
  if (stored !== undefined) return answerFromRow(stored, true);
  const lookup = isPan(request.pan) ? await panLookup(ctx.hsm, ctx.keys, request.pan) : undefined;
  return onceByKey(ctx, request.transactionKey, (q) => purchaseTransaction(ctx, q, request, lookup));
}
