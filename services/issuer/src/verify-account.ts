import { constantTimeEqual } from '@amulet/bytes';
import { evaluateRisk, type Features } from '@amulet/risk';
import type { Querier } from '@amulet/store';
import { sql } from 'kysely';
import { type AuthorizationAnswer, answerFromRow } from './authorization-answer.ts';
import { cardCheck, insertAuthorization, onceByKey } from './authorize-purchase.ts';
import { isPan } from './card-number.ts';
import { otpHash, panLookup } from './card-protection.ts';
import { type DecisionReason, decisionReasons } from './decision-reasons.ts';
import {
  authorizationByKey,
  type CardRow,
  cardByLookup,
  first,
  type IssuerContext,
} from './issuer-context.ts';
import { newId, randomDigits } from './random-source.ts';
import type { IssuerSchema } from './schema.ts';

/** The token service's ID&V question: an account verification (field 3 '180000', amount 0), '10' = 'TAR'. */
export interface VerificationRequest {
  readonly transactionKey: string;
  readonly pan: string;
  readonly expiry?: string;
  readonly tokenRequestorId?: string;
  readonly deviceId?: string;
}

/** The cardholder typing the OTP: an account verification with '10' = 'OTP' and '11' = the code. */
export interface OtpCheckRequest {
  readonly transactionKey: string;
  readonly pan: string;
  readonly code: string;
}

function record(
  ctx: IssuerContext,
  q: Querier,
  kind: 'verification' | 'otp',
  request: { transactionKey: string },
  card: CardRow | undefined,
  reason: DecisionReason | undefined,
  riskReasons: readonly string[] = [],
): Promise<AuthorizationAnswer> {
  return insertAuthorization(ctx, q, {
    kind,
    transactionKey: request.transactionKey,
    ...(card === undefined ? {} : { card }),
    amountMinor: 0,
    currency: '000',
    responseCode: reason === undefined ? '00' : decisionReasons[reason].code,
    ...(reason === undefined ? {} : { reason }),
    riskReasons,
    state: reason === undefined || reason === 'IDV_STEP_UP' ? 'answered' : 'declined',
  });
}

/**
 * ID&V: red (unknown card '14', blocked/lost/closed '62', expired '54', risk '05'), yellow ('1A':
 * an OTP goes to the cardholder's outbox) when the card asks for step-up or the risk rules say
 * review, green ('00') otherwise. Exactly one answer (and at most one OTP) per transaction key.
 */
export async function verifyAccount(
  ctx: IssuerContext,
  request: VerificationRequest,
): Promise<AuthorizationAnswer> {
  const stored = await authorizationByKey(ctx, ctx.engine.read, request.transactionKey);
  if (stored !== undefined) return answerFromRow(stored, true);
  const lookup = isPan(request.pan) ? await panLookup(ctx.hsm, ctx.keys, request.pan) : undefined;
  // The code and its hash are made before the transaction (the HSM is not called inside it).
  const code = randomDigits(ctx.random, 6);
  const hash = lookup === undefined ? undefined : await otpHash(ctx.hsm, ctx.keys, lookup, code);
  return onceByKey(ctx, request.transactionKey, async (q) => {
    const existing = await authorizationByKey(ctx, q, request.transactionKey);
    if (existing !== undefined) return answerFromRow(existing, true);
    const now = ctx.now();
    const card = lookup === undefined ? undefined : await cardByLookup(ctx, q, lookup);
    const cardReason = cardCheck(card, request.expiry, now);
    if (cardReason !== undefined || card === undefined || hash === undefined)
      return record(ctx, q, 'verification', request, card, cardReason ?? 'CARD_UNKNOWN');
    const atMs = now.getTime();
    ctx.velocity.record(`idv:${card.id}`, atMs);
    // ID&V reads provisioning features only; velocity.* features are purchase counts.
    const features: Features = {
      provisioningAttempts: ctx.velocity.count(`idv:${card.id}`, atMs, 86_400_000),
      ...(request.tokenRequestorId === undefined ? {} : { tokenRequestorId: request.tokenRequestorId }),
    };
    const risk = evaluateRisk(ctx.rules, features);
    if (risk.decision === 'decline')
      return record(ctx, q, 'verification', request, card, 'IDV_RISK_DECLINE', risk.reasons);
    if (card.step_up === 0 && risk.decision === 'approve')
      return record(ctx, q, 'verification', request, card, undefined, risk.reasons);
    // Yellow: one open OTP per card; a new one supersedes the last.
    const stamp = now.toISOString();
    const expiresAt = new Date(atMs + ctx.otpTtlMs).toISOString();
    await q.run(
      ctx.db
        .updateTable('issuer_otps')
        .set({ state: 'superseded' })
        .where('card_id', '=', card.id)
        .where('state', '=', 'open')
        .compile(),
    );
    await q.run(
      ctx.db
        .insertInto('issuer_otps')
        .values({
          id: newId(ctx.random, 'otp'),
          card_id: card.id,
          code_hash: hash,
          expires_at: expiresAt,
          tries_left: ctx.otpMaxTries,
          state: 'open',
          created_at: stamp,
        })
        .compile(),
    );
    await q.run(
      ctx.db
        .insertInto('issuer_otp_outbox')
        .values({
          id: newId(ctx.random, 'ob'),
          cardholder_id: card.cardholder_id,
          card_masked: card.pan_masked,
          code,
          expires_at: expiresAt,
          delivered: 0,
          created_at: stamp,
        })
        .compile(),
    );
    return record(ctx, q, 'verification', request, card, 'IDV_STEP_UP', risk.reasons);
  });
}

/**
 * The OTP check: '00' when the code is the card's open, unexpired OTP; '55' otherwise. A try is
 * counted before the code is compared (as a PIN try counter is), so tries are limited even
 * when the check is interrupted.
 */
export async function checkOtp(ctx: IssuerContext, request: OtpCheckRequest): Promise<AuthorizationAnswer> {
  const stored = await authorizationByKey(ctx, ctx.engine.read, request.transactionKey);
  if (stored !== undefined) return answerFromRow(stored, true);
  const lookup = isPan(request.pan) ? await panLookup(ctx.hsm, ctx.keys, request.pan) : undefined;
  const code = /^[0-9]{6}$/.test(request.code) ? request.code : '';
  const hash = lookup === undefined ? undefined : await otpHash(ctx.hsm, ctx.keys, lookup, code);
  return onceByKey(ctx, request.transactionKey, async (q) => {
    const existing = await authorizationByKey(ctx, q, request.transactionKey);
    if (existing !== undefined) return answerFromRow(existing, true);
    const card = lookup === undefined ? undefined : await cardByLookup(ctx, q, lookup);
    if (card === undefined || hash === undefined) return record(ctx, q, 'otp', request, card, 'CARD_UNKNOWN');
    const otp = await first<IssuerSchema['issuer_otps']>(
      q,
      ctx.db
        .selectFrom('issuer_otps')
        .selectAll()
        .where('card_id', '=', card.id)
        .where('state', '=', 'open')
        .compile(),
    );
    if (otp === undefined) return record(ctx, q, 'otp', request, card, 'OTP_NONE');
    const now = ctx.now().toISOString();
    if (otp.expires_at <= now) {
      await q.run(
        ctx.db.updateTable('issuer_otps').set({ state: 'expired' }).where('id', '=', otp.id).compile(),
      );
      return record(ctx, q, 'otp', request, card, 'OTP_EXPIRED');
    }
    const counted = await q.run(
      ctx.db
        .updateTable('issuer_otps')
        .set({ tries_left: sql`tries_left - 1` })
        .where('id', '=', otp.id)
        .where('tries_left', '>', 0)
        .compile(),
    );
    if (counted === 0) return record(ctx, q, 'otp', request, card, 'OTP_TRIES_EXCEEDED');
    if (code !== '' && constantTimeEqual(new Uint8Array(otp.code_hash), hash)) {
      await q.run(
        ctx.db.updateTable('issuer_otps').set({ state: 'used' }).where('id', '=', otp.id).compile(),
      );
      return record(ctx, q, 'otp', request, card, undefined);
    }
    if (Number(otp.tries_left) <= 1)
      await q.run(
        ctx.db.updateTable('issuer_otps').set({ state: 'exhausted' }).where('id', '=', otp.id).compile(),
      );
    return record(ctx, q, 'otp', request, card, 'OTP_MISMATCH');
  });
}

/** A message in the cardholder's OTP outbox, as the companion app reads it. */
export interface OtpMessage {
  readonly id: string;
  readonly cardMasked: string;
  readonly code: string;
  readonly expiresAt: string;
}

/**
 * Deletes the outbox messages whose code has expired, delivered or not (an undelivered one still
 * holds its code in clear, and an expired code is of no use to anyone), oldest first, at most
 * `limit`; `more` says whether to call again.
 */
export async function expireOtpOutbox(
  ctx: IssuerContext,
  limit: number,
): Promise<{ readonly removed: number; readonly more: boolean }> {
  const now = ctx.now().toISOString();
  const removed = await ctx.engine.transaction((q) =>
    q.run(
      ctx.db
        .deleteFrom('issuer_otp_outbox')
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('issuer_otp_outbox')
            .select('id')
            .where('expires_at', '<=', now)
            .orderBy('expires_at')
            .limit(limit),
        )
        .compile(),
    ),
  );
  return { removed, more: removed === limit };
}

/**
 * Reads the cardholder's undelivered OTPs (at most 100, oldest first) and marks them delivered; the code is wiped from the
 * outbox on delivery, so each code is read once.
 */
export async function readOtpOutbox(ctx: IssuerContext, cardholderId: string): Promise<OtpMessage[]> {
  return ctx.engine.transaction(async (q) => {
    const rows = await q.all<IssuerSchema['issuer_otp_outbox']>(
      ctx.db
        .selectFrom('issuer_otp_outbox')
        .selectAll()
        .where('cardholder_id', '=', cardholderId)
        .where('delivered', '=', 0)
        .orderBy('created_at')
        .orderBy('id')
        .limit(100)
        .compile(),
    );
    for (const row of rows)
      await q.run(
        ctx.db
          .updateTable('issuer_otp_outbox')
          .set({ delivered: 1, code: '' })
          .where('id', '=', row.id)
          .compile(),
      );
    return rows.map((r) => ({ id: r.id, cardMasked: r.card_masked, code: r.code, expiresAt: r.expires_at }));
  });
}
