import type { Hsm } from '@amulet/hsm';
import { type RuleSet, SlidingWindowCounter } from '@amulet/risk';
import { type Engine, isUniqueViolation, migrate, queryBuilder } from '@amulet/store';
import type { AuthorizationAnswer } from './authorization-answer.ts';
import { authorizePurchase, type PurchaseRequest } from './authorize-purchase.ts';
import {
  type CaptureBatchResult,
  type CaptureRequest,
  type CaptureResult,
  captureAuthorization,
  captureBatch,
} from './capture-authorization.ts';
import { checkExpiry, checkPan, expiryAfter, maskCardNumber, newPan } from './card-number.ts';
import { type IssuerKeys, open, panLookup, panPurpose, seal } from './card-protection.ts';
import { type CardStatus, nextCardStatus } from './card-status.ts';
import { defaultIssuerRules } from './default-rules.ts';
import { expireHolds, type HoldExpiry } from './expire-holds.ts';
import {
  accountById,
  type CardRow,
  cardById,
  dayOf,
  type IssuerContext,
  num,
  post,
} from './issuer-context.ts';
import { IssuerError } from './issuer-error.ts';
import type { IssuerLog } from './issuer-log.ts';
import { issuerMigrations } from './issuer-migrations.ts';
import { ledgerAccount, maxAmountMinor, postingLines } from './ledger.ts';
import { type AdviceRequest, postAdvice } from './post-advice.ts';
import { newId, type RandomBytes } from './random-source.ts';
import { type ReversalAnswer, type ReversalRequest, reverseAuthorization } from './reverse-authorization.ts';
import type { IssuerSchema } from './schema.ts';
import {
  checkOtp,
  expireOtpOutbox,
  type OtpCheckRequest,
  type OtpMessage,
  readOtpOutbox,
  type VerificationRequest,
  verifyAccount,
} from './verify-account.ts';

export interface IssuerOptions {
  /** The issuer's own database (@amulet/store's openSqliteEngine or openPostgresEngine); migrated on open. */
  readonly engine: Engine;
  readonly hsm: Hsm;
  /** See ensureIssuerKeys. */
  readonly keys: IssuerKeys;
  readonly now: () => Date;
  readonly random: RandomBytes;
  /** Default: defaultIssuerRules. */
  readonly rules?: RuleSet;
  /** Default 5 minutes. */
  readonly otpTtlMs?: number;
  /** Default 3. */
  readonly otpMaxTries?: number;
  /**
   * How long a hold stands before `expireHolds` releases it; default 7 days. A capture after that
   * still posts.
   */
  readonly holdExpiryMs?: number;
  readonly log?: IssuerLog;
}

export interface NewAccount {
  readonly cardholderId: string;
  /** ISO 4217 numeric, e.g. '978'. */
  readonly currency: string;
  /** How far below zero the available balance may go (0 for a debit account). */
  readonly creditLimitMinor?: number;
  readonly openingBalanceMinor?: number;
}

export interface Account {
  readonly id: string;
  readonly cardholderId: string;
  readonly currency: string;
  readonly creditLimitMinor: number;
  readonly balanceMinor: number;
  readonly heldMinor: number;
  /** balance - holds; never below -creditLimit except through stand-in advices. */
  readonly availableMinor: number;
}

export interface NewCard {
  readonly accountId: string;
  /** The PAN to issue; when absent one is made under `bin`. */
  readonly pan?: string;
  readonly bin?: string;
  readonly panLength?: number;
  /** YYMM; default three years from now. */
  readonly expiry?: string;
  /** ID&V always yellow (OTP step-up) for this card. */
  readonly stepUp?: boolean;
  readonly perTransactionLimitMinor?: number;
  readonly dailyLimitMinor?: number;
}

export interface Card {
  readonly id: string;
  readonly accountId: string;
  readonly cardholderId: string;
  readonly panMasked: string;
  readonly status: CardStatus;
  readonly expiry: string;
  readonly stepUp: boolean;
  readonly perTransactionLimitMinor: number | undefined;
  readonly dailyLimitMinor: number | undefined;
  readonly replacedBy: string | undefined;
}

/** A card as issued: the clear PAN is given to the caller once (to emboss or send), never stored. */
export interface IssuedCard extends Card {
  readonly pan: string;
}

/** An event the token service polls: a card reissued (ISO: issuer PAN update for its tokens). */
export interface CardReissuedEvent {
  readonly seq: number;
  readonly id: string;
  readonly type: 'card.reissued';
  readonly at: string;
  readonly accountId: string;
  readonly oldCardId: string;
  readonly newCardId: string;
  readonly oldPan: string;
  readonly newPan: string;
  readonly newExpiry: string;
}

export interface LedgerCheck {
  /** Sum of every entry: zero. */
  readonly sumMinor: number;
  readonly postings: number;
  /** Accounts whose stored balance or holds differ from the sum of their ledger entries. */
  readonly mismatchedAccounts: readonly string[];
}

const eventPurpose = 'amulet-issuer-event/1';

function cardView(row: CardRow): Card {
  return {
    id: row.id,
    accountId: row.account_id,
    cardholderId: row.cardholder_id,
    panMasked: row.pan_masked,
    status: row.status as CardStatus,
    expiry: row.expiry,
    stepUp: row.step_up === 1,
    perTransactionLimitMinor:
      row.per_transaction_limit_minor === null ? undefined : num(row.per_transaction_limit_minor),
    dailyLimitMinor: row.daily_limit_minor === null ? undefined : num(row.daily_limit_minor),
    replacedBy: row.replaced_by ?? undefined,
  };
}

function checkHoldExpiry(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 1)
    throw new IssuerError('ERR_ISSUER_INPUT', 'holdExpiryMs is a positive whole number of milliseconds');
  return ms;
}

function checkAmount(value: number | undefined, name: string, allowZero = true): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < (allowZero ? 0 : 1) || value > maxAmountMinor)
    throw new IssuerError('ERR_ISSUER_INPUT', `${name} is a whole number of minor units within n12`);
  return value;
}

/**
 * The issuer host as a library: accounts, cards, the ledger and every decision. Clock, randomness,
 * HSM and database are injected. The ISO 8583 endpoint (issuer-endpoint.ts) calls it.
 */
export class Issuer {
  readonly #ctx: IssuerContext;

  private constructor(ctx: IssuerContext) {
    this.#ctx = ctx;
  }

  static async open(options: IssuerOptions): Promise<Issuer> {
    const holdExpiryMs = checkHoldExpiry(options.holdExpiryMs ?? 7 * 86_400_000);
    await migrate(options.engine, options.now, issuerMigrations(options.engine.dialect));
    return new Issuer({
      engine: options.engine,
      db: queryBuilder<IssuerSchema>(options.engine.dialect),
      hsm: options.hsm,
      keys: options.keys,
      now: options.now,
      random: options.random,
      rules: options.rules ?? defaultIssuerRules,
      velocity: new SlidingWindowCounter({
        maxWindowMs: 86_400_000,
        maxKeys: 200_000,
        maxEventsPerKey: 1000,
      }),
      otpTtlMs: options.otpTtlMs ?? 300_000,
      otpMaxTries: options.otpMaxTries ?? 3,
      holdExpiryMs,
      log: options.log ?? (() => undefined),
    });
  }

  get log(): IssuerLog {
    return this.#ctx.log;
  }

  // Accounts and cards.

  async createAccount(input: NewAccount): Promise<Account> {
    if (!/^[0-9]{3}$/.test(input.currency))
      throw new IssuerError('ERR_ISSUER_INPUT', 'a currency is ISO 4217 numeric');
    const creditLimit = checkAmount(input.creditLimitMinor, 'creditLimitMinor') ?? 0;
    const opening = checkAmount(input.openingBalanceMinor, 'openingBalanceMinor') ?? 0;
    const ctx = this.#ctx;
    const id = newId(ctx.random, 'ac');
    await ctx.engine.transaction(async (q) => {
      await q.run(
        ctx.db
          .insertInto('issuer_accounts')
          .values({
            id,
            cardholder_id: input.cardholderId,
            currency: input.currency,
            credit_limit_minor: creditLimit,
            balance_minor: opening,
            held_minor: 0,
            history_count: 0,
            history_sum_minor: 0,
            history_max_minor: 0,
            created_at: ctx.now().toISOString(),
          })
          .compile(),
      );
      if (opening > 0) await post(ctx, q, 'deposit', null, postingLines.deposit(id, opening));
    });
    return this.account(id);
  }

  async account(accountId: string): Promise<Account> {
    const row = await accountById(this.#ctx, this.#ctx.engine.read, accountId);
    if (row === undefined) throw new IssuerError('ERR_ISSUER_NOT_FOUND', 'no such account');
    const balance = num(row.balance_minor);
    const held = num(row.held_minor);
    return {
      id: row.id,
      cardholderId: row.cardholder_id,
      currency: row.currency,
      creditLimitMinor: num(row.credit_limit_minor),
      balanceMinor: balance,
      heldMinor: held,
      availableMinor: balance - held,
    };
  }

  /** Credits an account (a payment in), posted against funding. */
  async deposit(accountId: string, amountMinor: number): Promise<Account> {
    const amount = checkAmount(amountMinor, 'amountMinor', false) as number;
    const ctx = this.#ctx;
    await ctx.engine.transaction(async (q) => {
      const changed = await q.run(
        ctx.db
          .updateTable('issuer_accounts')
          .set((eb) => ({ balance_minor: eb('balance_minor', '+', amount) }))
          .where('id', '=', accountId)
          .compile(),
      );
      if (changed === 0) throw new IssuerError('ERR_ISSUER_NOT_FOUND', 'no such account');
      await post(ctx, q, 'deposit', null, postingLines.deposit(accountId, amount));
    });
    return this.account(accountId);
  }

  async issueCard(input: NewCard): Promise<IssuedCard> {
    const ctx = this.#ctx;
    const account = await accountById(ctx, ctx.engine.read, input.accountId);
    if (account === undefined) throw new IssuerError('ERR_ISSUER_NOT_FOUND', 'no such account');
    const pan =
      input.pan === undefined
        ? newPan(input.bin ?? '476173', input.panLength ?? 16, ctx.random)
        : checkPan(input.pan);
    const expiry = input.expiry === undefined ? expiryAfter(ctx.now(), 3) : checkExpiry(input.expiry);
    const perTransaction = checkAmount(input.perTransactionLimitMinor, 'perTransactionLimitMinor');
    const daily = checkAmount(input.dailyLimitMinor, 'dailyLimitMinor');
    const row = await this.#cardRow({
      accountId: account.id,
      cardholderId: account.cardholder_id,
      pan,
      expiry,
      stepUp: input.stepUp === true,
      perTransaction,
      daily,
    });
    try {
      await ctx.engine.transaction((q) => q.run(ctx.db.insertInto('issuer_cards').values(row).compile()));
    } catch (cause) {
      if (isUniqueViolation(cause))
        throw new IssuerError('ERR_ISSUER_INPUT', 'a card with this PAN exists', { cause });
      throw cause;
    }
    ctx.log({ event: 'card.issued', panMasked: row.pan_masked });
    return { ...cardView(row), pan };
  }

  async #cardRow(input: {
    accountId: string;
    cardholderId: string;
    pan: string;
    expiry: string;
    stepUp: boolean;
    perTransaction: number | undefined;
    daily: number | undefined;
  }): Promise<CardRow> {
    const ctx = this.#ctx;
    const sealed = await seal(ctx.hsm, ctx.keys, ctx.random, panPurpose, new TextEncoder().encode(input.pan));
    const stamp = ctx.now().toISOString();
    return {
      id: newId(ctx.random, 'ca'),
      account_id: input.accountId,
      cardholder_id: input.cardholderId,
      pan_lookup: await panLookup(ctx.hsm, ctx.keys, input.pan),
      pan_ciphertext: sealed.ciphertext,
      wrapped_data_key: sealed.wrappedDataKey,
      wrapping_key_id: sealed.wrappingKeyId,
      pan_masked: maskCardNumber(input.pan),
      status: 'active',
      expiry: input.expiry,
      step_up: input.stepUp ? 1 : 0,
      per_transaction_limit_minor: input.perTransaction ?? null,
      daily_limit_minor: input.daily ?? null,
      spend_day: dayOf(ctx.now()),
      spend_day_total_minor: 0,
      replaced_by: null,
      created_at: stamp,
      updated_at: stamp,
    };
  }

  async card(cardId: string): Promise<Card> {
    const row = await cardById(this.#ctx, this.#ctx.engine.read, cardId);
    if (row === undefined) throw new IssuerError('ERR_ISSUER_NOT_FOUND', 'no such card');
    return cardView(row);
  }

  /** The card with this PAN, found by its keyed hash. */
  async findCard(pan: string): Promise<Card | undefined> {
    const ctx = this.#ctx;
    if (!/^[0-9]{13,19}$/.test(pan)) return undefined;
    const rows = await ctx.engine.read.all<CardRow>(
      ctx.db
        .selectFrom('issuer_cards')
        .selectAll()
        .where('pan_lookup', '=', await panLookup(ctx.hsm, ctx.keys, pan))
        .compile(),
    );
    return rows[0] === undefined ? undefined : cardView(rows[0]);
  }

  async setCardStatus(cardId: string, status: CardStatus): Promise<Card> {
    const ctx = this.#ctx;
    await ctx.engine.transaction(async (q) => {
      const row = await cardById(ctx, q, cardId);
      if (row === undefined) throw new IssuerError('ERR_ISSUER_NOT_FOUND', 'no such card');
      const next = nextCardStatus(row.status as CardStatus, status);
      await q.run(
        ctx.db
          .updateTable('issuer_cards')
          .set({ status: next, updated_at: ctx.now().toISOString() })
          .where('id', '=', cardId)
          .compile(),
      );
    });
    return this.card(cardId);
  }

  /** Sets whether ID&V for the card is yellow (OTP step-up) or green. */
  async setStepUp(cardId: string, stepUp: boolean): Promise<Card> {
    const ctx = this.#ctx;
    const changed = await ctx.engine.transaction((q) =>
      q.run(
        ctx.db
          .updateTable('issuer_cards')
          .set({ step_up: stepUp ? 1 : 0 })
          .where('id', '=', cardId)
          .compile(),
      ),
    );
    if (changed === 0) throw new IssuerError('ERR_ISSUER_NOT_FOUND', 'no such card');
    return this.card(cardId);
  }

  /**
   * Card reissue: a new PAN (same BIN and length) and expiry for the same account; the old card is
   * closed and points at the new one, and a `card.reissued` event (old and new PAN, sealed under a
   * data key) goes to the outbox the token service polls, so its tokens follow the new PAN.
   */
  async reissueCard(cardId: string, options: { readonly validityYears?: number } = {}): Promise<IssuedCard> {
    const ctx = this.#ctx;
    const old = await cardById(ctx, ctx.engine.read, cardId);
    if (old === undefined) throw new IssuerError('ERR_ISSUER_NOT_FOUND', 'no such card');
    if (old.status === 'closed')
      throw new IssuerError('ERR_ISSUER_STATUS', 'a closed card cannot be reissued');
    const oldPan = new TextDecoder().decode(
      await open(ctx.hsm, panPurpose, {
        ciphertext: old.pan_ciphertext,
        wrappedDataKey: old.wrapped_data_key,
        wrappingKeyId: old.wrapping_key_id,
      }),
    );
    for (let attempt = 0; ; attempt++) {
      const pan = newPan(oldPan.slice(0, 6), oldPan.length, ctx.random);
      const expiry = expiryAfter(ctx.now(), options.validityYears ?? 3);
      const row = await this.#cardRow({
        accountId: old.account_id,
        cardholderId: old.cardholder_id,
        pan,
        expiry,
        stepUp: old.step_up === 1,
        perTransaction:
          old.per_transaction_limit_minor === null ? undefined : num(old.per_transaction_limit_minor),
        daily: old.daily_limit_minor === null ? undefined : num(old.daily_limit_minor),
      });
      const payload = JSON.stringify({
        accountId: old.account_id,
        oldCardId: old.id,
        newCardId: row.id,
        oldPan,
        newPan: pan,
        newExpiry: expiry,
      });
      const sealed = await seal(
        ctx.hsm,
        ctx.keys,
        ctx.random,
        eventPurpose,
        new TextEncoder().encode(payload),
      );
      try {
        await ctx.engine.transaction(async (q) => {
          await q.run(ctx.db.insertInto('issuer_cards').values(row).compile());
          const closed = await q.run(
            ctx.db
              .updateTable('issuer_cards')
              .set({ status: 'closed', replaced_by: row.id, updated_at: row.created_at })
              .where('id', '=', old.id)
              .where('status', '!=', 'closed')
              .compile(),
          );
          if (closed === 0) throw new IssuerError('ERR_ISSUER_STATUS', 'a closed card cannot be reissued');
          await q.run(
            ctx.db
              .insertInto('issuer_events')
              .values({
                id: newId(ctx.random, 'ev'),
                type: 'card.reissued',
                card_id: old.id,
                payload_ciphertext: sealed.ciphertext,
                wrapped_data_key: sealed.wrappedDataKey,
                wrapping_key_id: sealed.wrappingKeyId,
                created_at: row.created_at,
              })
              .compile(),
          );
        });
      } catch (error) {
        if (isUniqueViolation(error) && attempt < 3) continue; // the new PAN was taken: draw again
        throw error;
      }
      ctx.log({ event: 'card.reissued', panMasked: row.pan_masked });
      return { ...cardView(row), pan };
    }
  }

  /** Events after `afterSeq`, oldest first, decrypted for the poller (the token service). */
  async events(afterSeq = 0, limit = 100): Promise<CardReissuedEvent[]> {
    const ctx = this.#ctx;
    const rows = await ctx.engine.read.all<
      Omit<IssuerSchema['issuer_events'], 'seq'> & { seq: number | string }
    >(
      ctx.db
        .selectFrom('issuer_events')
        .selectAll()
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(Math.max(1, Math.min(limit, 1000)))
        .compile(),
    );
    const out: CardReissuedEvent[] = [];
    for (const row of rows) {
      const plain = await open(ctx.hsm, eventPurpose, {
        ciphertext: row.payload_ciphertext,
        wrappedDataKey: row.wrapped_data_key,
        wrappingKeyId: row.wrapping_key_id,
      });
      const body = JSON.parse(new TextDecoder().decode(plain)) as Omit<
        CardReissuedEvent,
        'seq' | 'id' | 'type' | 'at'
      >;
      out.push({ seq: num(row.seq), id: row.id, type: 'card.reissued', at: row.created_at, ...body });
    }
    return out;
  }

  // Decisions.

  authorize(request: PurchaseRequest): Promise<AuthorizationAnswer> {
    return authorizePurchase(this.#ctx, request);
  }

  verifyAccount(request: VerificationRequest): Promise<AuthorizationAnswer> {
    return verifyAccount(this.#ctx, request);
  }

  checkOtp(request: OtpCheckRequest): Promise<AuthorizationAnswer> {
    return checkOtp(this.#ctx, request);
  }

  postAdvice(request: AdviceRequest): Promise<AuthorizationAnswer> {
    return postAdvice(this.#ctx, request);
  }

  reverse(request: ReversalRequest): Promise<ReversalAnswer> {
    return reverseAuthorization(this.#ctx, request);
  }

  capture(authorizationCode: string, amountMinor: number): Promise<CaptureResult> {
    return captureAuthorization(this.#ctx, { authorizationCode, amountMinor });
  }

  captureBatch(items: readonly CaptureRequest[]): Promise<CaptureBatchResult> {
    return captureBatch(this.#ctx, items);
  }

  /**
   * Releases the holds older than `holdExpiryMs`, oldest first, at most `limit` (default 500) in
   * one transaction; `more` says whether to call again. `amulet serve` calls it every minute.
   */
  async expireHolds(limit = 500): Promise<HoldExpiry> {
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new IssuerError('ERR_ISSUER_INPUT', 'limit is a positive whole number');
    return expireHolds(this.#ctx, limit);
  }

  /**
   * The companion app's view of the OTP outbox: `otpOutbox.read(cardholderId)`. `expire(limit =
   * 500)` deletes the messages whose code has expired, read or not; `amulet serve` calls it every
   * minute.
   */
  readonly otpOutbox = {
    read: (cardholderId: string): Promise<OtpMessage[]> => readOtpOutbox(this.#ctx, cardholderId),
    expire: (limit = 100): Promise<{ readonly removed: number; readonly more: boolean }> => {
      if (!Number.isSafeInteger(limit) || limit < 1)
        throw new IssuerError('ERR_ISSUER_INPUT', 'limit is a positive whole number');
      return expireOtpOutbox(this.#ctx, limit);
    },
  };

  // Ledger.

  /** Sums the whole ledger and compares every account's stored balance and holds with its entries. */
  async checkLedger(): Promise<LedgerCheck> {
    const ctx = this.#ctx;
    const sums = await ctx.engine.read.all<{ ledger_account: string; total: number | string }>(
      ctx.db
        .selectFrom('issuer_entries')
        .select((eb) => ['ledger_account', eb.fn.sum<number>('amount_minor').as('total')])
        .groupBy('ledger_account')
        .compile(),
    );
    const byAccount = new Map(sums.map((s) => [s.ledger_account, num(s.total)]));
    const postings = await ctx.engine.read.all<{ n: number | string }>(
      ctx.db
        .selectFrom('issuer_postings')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .compile(),
    );
    const accounts = await ctx.engine.read.all<IssuerSchema['issuer_accounts']>(
      ctx.db.selectFrom('issuer_accounts').selectAll().compile(),
    );
    const mismatchedAccounts = accounts
      .filter(
        (a) =>
          (byAccount.get(ledgerAccount.customer(a.id)) ?? 0) !== num(a.balance_minor) ||
          (byAccount.get(ledgerAccount.holds(a.id)) ?? 0) !== num(a.held_minor),
      )
      .map((a) => a.id);
    let sum = 0;
    for (const total of byAccount.values()) sum += total;
    return { sumMinor: sum, postings: num(postings[0]?.n ?? 0), mismatchedAccounts };
  }
}
