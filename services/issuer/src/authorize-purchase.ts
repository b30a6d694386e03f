import { evaluateRisk, type Features, velocityFeatureName } from '@amulet/risk';
import { isUniqueViolation, type Querier } from '@amulet/store';
import { sql } from 'kysely';
import { type AuthorizationAnswer, answerFromRow, encodeReasons } from './authorization-answer.ts';
import { isExpired, isPan } from './card-number.ts';
import { panLookup } from './card-protection.ts';
import { type DecisionReason, decisionReasons } from './decision-reasons.ts';
import {
  type AuthorizationRow,
  authorizationByKey,
  type CardRow,
  dayOf,
  type IssuerContext,
  lockTransactionKey,
  num,
  post,
} from './issuer-context.ts';
import { IssuerError } from './issuer-error.ts';
import { maxAmountMinor, postingLines } from './ledger.ts';
import { prepareQuery } from './prepared-query.ts';
import { newApprovalIdentifiers, newOrderedId } from './random-source.ts';

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

/** What the card checks and the authorization row read of a card. */
export type CardFacts = Pick<CardRow, 'id' | 'account_id' | 'status' | 'expiry'>;

/** The card checks every request makes, in the documented order. */
export function cardCheck(
  card: CardFacts | undefined,
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
  readonly card?: CardFacts;
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
  /** The row id, when drawn with the authorization code (newApprovalIdentifiers). */
  readonly id?: string;
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
  const stamp = at.toISOString();
  const row = {
    id: input.id ?? newOrderedId(ctx.random, 'au', at.getTime()),
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
    spend_day: stamp.slice(0, 10), // dayOf(at)
    created_at: stamp,
    updated_at: stamp,
  };
  await q.run(insertAuthorizationQuery(ctx.db, row));
  return freshAnswer(row.id, input);
}

/** The answer to a request just decided: what answerFromRow gives for its row, without re-reading the row. */
function freshAnswer(id: string, input: InsertAuthorization): AuthorizationAnswer {
  const status =
    input.responseCode === '00' ? 'approved' : input.responseCode === '1A' ? 'step-up' : 'declined';
  return {
    status,
    responseCode: input.responseCode,
    ...(input.reason === undefined ? {} : { reason: input.reason }),
    ...(input.authorizationCode === undefined || status !== 'approved'
      ? {}
      : { authorizationCode: input.authorizationCode }),
    authorizationId: id,
    riskReasons: input.riskReasons ?? [],
    repeated: false,
  };
}

/**
 * Everything a purchase reads, in one statement: whether the transaction key was already answered
 * or reversed, and the card with its account. A request whose PAN is not a PAN looks up NULL, which
 * finds no card.
 */
interface PurchaseFacts {
  readonly existing_id: string | null;
  readonly reversed: number | boolean;
  readonly id: string | null;
  readonly account_id: string | null;
  readonly status: string | null;
  readonly expiry: string | null;
  readonly per_transaction_limit_minor: number | string | null;
  readonly currency: string | null;
  readonly history_count: number | string | null;
  readonly history_sum_minor: number | string | null;
  readonly history_max_minor: number | string | null;
}

const purchaseFactsQuery = prepareQuery((db, a: { key: string; lookup: Uint8Array | null }) =>
  sql`SELECT
      (SELECT id FROM issuer_authorizations WHERE transaction_key = ${a.key}) AS existing_id,
      EXISTS (SELECT 1 FROM issuer_reversals WHERE original_key = ${a.key}) AS reversed,
      c.id, c.account_id, c.status, c.expiry, c.per_transaction_limit_minor,
      ac.currency, ac.history_count, ac.history_sum_minor, ac.history_max_minor
    FROM (SELECT 1 AS one) AS request
    LEFT JOIN issuer_cards AS c ON c.pan_lookup = ${a.lookup}
    LEFT JOIN issuer_accounts AS ac ON ac.id = c.account_id`.compile(db),
);

/** The velocity windows of a purchase's risk features, with their feature names made once. */
const purchaseWindows = [
  { name: '1m', ms: 60_000 },
  { name: '1h', ms: 3_600_000 },
  { name: '24h', ms: 86_400_000 },
].map((w) => ({
  ms: w.ms,
  cardFeature: velocityFeatureName('card', w.name),
  accountFeature: velocityFeatureName('account', w.name),
}));

/**
 * The risk features of a purchase, from the request, the account's history and the velocity of
 * card and account over 1 minute, 1 hour and 24 hours (what velocityFeatures gives, with the
 * window names parsed once).
 */
function purchaseFeatures(
  ctx: IssuerContext,
  request: PurchaseRequest,
  facts: PurchaseFacts,
  cardKey: string,
  accountKey: string,
  atMs: number,
): Features {
  const count = num(facts.history_count);
  const features: Record<string, number | string> = {
    amountMinor: request.amountMinor,
    currency: request.currency,
    accountHistoryCount: count,
    accountAverageAmountMinor: count === 0 ? 0 : Math.floor(num(facts.history_sum_minor) / count),
    accountMaxAmountMinor: num(facts.history_max_minor),
  };
  if (request.merchantCategoryCode !== undefined)
    features.merchantCategoryCode = request.merchantCategoryCode;
  if (request.posEntryMode !== undefined) features.posEntryMode = request.posEntryMode;
  for (const w of purchaseWindows) features[w.cardFeature] = ctx.velocity.count(cardKey, atMs, w.ms);
  for (const w of purchaseWindows) features[w.accountFeature] = ctx.velocity.count(accountKey, atMs, w.ms);
  return features as Features;
}

async function purchaseTransaction(
  ctx: IssuerContext,
  q: Querier,
  request: PurchaseRequest,
  lookup: Uint8Array | undefined,
): Promise<AuthorizationAnswer> {
  await lockTransactionKey(ctx, q, request.transactionKey);
  const facts = (
    await q.all<PurchaseFacts>(
      purchaseFactsQuery(ctx.db, { key: request.transactionKey, lookup: lookup ?? null }),
    )
  )[0] as PurchaseFacts;
  if (facts.existing_id !== null) {
    const existing = await authorizationByKey(ctx, q, request.transactionKey);
    if (existing !== undefined) return answerFromRow(existing, true);
  }
  const now = ctx.now();
  const base = {
    kind: 'purchase',
    transactionKey: request.transactionKey,
    amountMinor: request.amountMinor,
    currency: request.currency,
  } as const;
  const decline = (reason: DecisionReason, card?: CardFacts, riskReasons: readonly string[] = []) =>
    insertAuthorization(ctx, q, {
      ...base,
      ...(card === undefined ? {} : { card }),
      responseCode: decisionReasons[reason].code,
      reason,
      riskReasons,
      state: 'declined',
    });

  if (facts.reversed === 1 || facts.reversed === true) return decline('REVERSED_BEFORE_ARRIVAL');
  const card = facts.id === null ? undefined : (facts as CardFacts);
  const cardReason = cardCheck(card, request.expiry, now);
  if (cardReason !== undefined || card === undefined) return decline(cardReason ?? 'CARD_UNKNOWN', card);
  if (facts.currency === null) throw new IssuerError('ERR_ISSUER_NOT_FOUND', 'the card has no account');
  if (request.currency !== facts.currency) return decline('CURRENCY_MISMATCH', card);
  const amount = request.amountMinor;
  if (!Number.isSafeInteger(amount) || amount <= 0 || amount > maxAmountMinor)
    return decline('AMOUNT_INVALID', card);
  if (facts.per_transaction_limit_minor !== null && amount > num(facts.per_transaction_limit_minor))
    return decline('TRANSACTION_LIMIT', card);

  const atMs = now.getTime();
  const cardKey = `purchase:${card.id}`;
  const accountKey = `purchase:${card.account_id}`;
  ctx.velocity.record(cardKey, atMs);
  ctx.velocity.record(accountKey, atMs);
  const risk = evaluateRisk(ctx.rules, purchaseFeatures(ctx, request, facts, cardKey, accountKey, atMs));
  if (risk.decision === 'decline') return decline('RISK_DECLINE', card, risk.reasons);

  // Daily limit, then funds: each a conditional update, so concurrent authorizations on one card
  // or account cannot both pass a check that only one of them fits (the row lock serializes them).
  const daily = await q.run(spendTodayQuery(ctx.db, { cardId: card.id, day: dayOf(now), amount }));
  if (daily === 0) return decline('DAILY_LIMIT', card, risk.reasons);
  const held = await q.run(holdQuery(ctx.db, { accountId: card.account_id, amount }));
  if (held === 0) {
    await q.run(unspendQuery(ctx.db, { cardId: card.id, amount }));
    return decline('INSUFFICIENT_FUNDS', card, risk.reasons);
  }
  const approval = newApprovalIdentifiers(ctx.random, atMs);
  const answer = await insertAuthorization(ctx, q, {
    ...base,
    card,
    responseCode: '00',
    riskReasons: risk.reasons,
    state: 'held',
    heldMinor: amount,
    authorizationCode: approval.code,
    id: approval.id,
  });
  // The hold's posting takes the authorization id's time and random parts: an authorization holds once.
  const postingId = `po_${approval.id.slice(3)}`;
  await post(ctx, q, 'hold', answer.authorizationId, postingLines.hold(card.account_id, amount), postingId);
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
