import { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionReasons, type HoldExpiry, type IssuedCard, Issuer } from '../src/index.ts';
import { type Backend, clearPansIn, type Harness, nextKey, openHarness } from './fixtures.ts';

/**
 * One suite, run on SQLite and on PostgreSQL: accounts and cards, decisions in their documented
 * order, exactly-once effects for repeats, reversals, advices, captures, ID&V with OTP, reissue,
 * and a ledger that sums to zero.
 */
export function issuerConformance(backend: Backend): void {
  describe(`issuer on ${backend.name}`, () => {
    let h: Harness & { files: () => string[] };
    let issuer: Issuer;

    beforeAll(async () => {
      h = await openHarness(backend);
      issuer = h.issuer;
    });

    afterAll(async () => {
      const ledger = await issuer.checkLedger();
      expect(ledger.sumMinor).toBe(0);
      expect(ledger.mismatchedAccounts).toEqual([]);
      await h.close();
    });

    async function newCard(
      opening = 100_00,
      card: Partial<{
        stepUp: boolean;
        perTransactionLimitMinor: number;
        dailyLimitMinor: number;
        expiry: string;
      }> = {},
      creditLimitMinor = 0,
    ): Promise<IssuedCard> {
      const account = await issuer.createAccount({
        cardholderId: `ch-${h.pans.size}`,
        currency: '978',
        openingBalanceMinor: opening,
        creditLimitMinor,
      });
      const issued = await issuer.issueCard({ accountId: account.id, ...card });
      h.pans.add(issued.pan);
      return issued;
    }

    const purchase = (card: IssuedCard, amountMinor: number, extra: Record<string, string> = {}) =>
      issuer.authorize({ transactionKey: nextKey(), pan: card.pan, amountMinor, currency: '978', ...extra });

    it('opens accounts and issues cards, keeping only a masked PAN in view', async () => {
      const card = await newCard(50_00);
      expect(card.panMasked).toBe(`${card.pan.slice(0, 6)}******${card.pan.slice(-4)}`);
      expect(card.status).toBe('active');
      expect((await issuer.findCard(card.pan))?.id).toBe(card.id);
      expect(await issuer.findCard('4761739001010119')).toBeUndefined();
      const account = await issuer.account(card.accountId);
      expect(account).toMatchObject({ balanceMinor: 50_00, heldMinor: 0, availableMinor: 50_00 });
      await expect(issuer.issueCard({ accountId: card.accountId, pan: card.pan })).rejects.toMatchObject({
        code: 'ERR_ISSUER_INPUT',
      });
    });

    it('approves a purchase with an authorization code and holds its amount', async () => {
      const card = await newCard(100_00);
      const answer = await purchase(card, 12_34);
      expect(answer).toMatchObject({ status: 'approved', responseCode: '00', repeated: false });
      expect(answer.authorizationCode).toMatch(/^[0-9A-Z]{6}$/);
      expect(await issuer.account(card.accountId)).toMatchObject({
        balanceMinor: 100_00,
        heldMinor: 12_34,
        availableMinor: 87_66,
      });
    });

    it('declines for each reason in the documented order, with its response code', async () => {
      const expired = await newCard(100_00, { expiry: '2611' });
      const blocked = await newCard(100_00);
      await issuer.setCardStatus(blocked.id, 'blocked');
      const lost = await newCard(100_00);
      await issuer.setCardStatus(lost.id, 'lost');
      const closed = await newCard(100_00);
      await issuer.setCardStatus(closed.id, 'closed');
      const limited = await newCard(100_00, { perTransactionLimitMinor: 20_00, dailyLimitMinor: 30_00 });
      const poor = await newCard(10_00);
      const poorer = await newCard(10_00);
      const rows: [string, () => Promise<{ reason?: string; responseCode: string }>][] = [
        [
          'CARD_UNKNOWN',
          () =>
            issuer.authorize({
              transactionKey: nextKey(),
              pan: '4761739001010119',
              amountMinor: 100,
              currency: '978',
            }),
        ],
        ['CARD_BLOCKED', () => purchase(blocked, 100)],
        ['CARD_LOST', () => purchase(lost, 100)],
        ['CARD_CLOSED', () => purchase(closed, 100)],
        ['CARD_EXPIRED', () => purchase(expired, 100)],
        ['EXPIRY_MISMATCH', () => purchase(poor, 100, { expiry: '3001' })],
        [
          'CURRENCY_MISMATCH',
          () =>
            issuer.authorize({ transactionKey: nextKey(), pan: poor.pan, amountMinor: 100, currency: '840' }),
        ],
        ['AMOUNT_INVALID', () => purchase(poor, 0)],
        ['TRANSACTION_LIMIT', () => purchase(limited, 20_01)],
        [
          'RISK_DECLINE',
          () =>
            purchase(poor, 100, { merchantCategoryCode: '7995' }).then(async () => purchaseMany(poor, 25)),
        ],
        ['INSUFFICIENT_FUNDS', () => purchase(poorer, 10_01)],
      ];
      async function purchaseMany(card: IssuedCard, n: number) {
        let last = await purchase(card, 1);
        for (let i = 1; i < n; i++) last = await purchase(card, 1);
        return last;
      }
      for (const [reason, run] of rows) {
        const answer = await run();
        expect(answer.reason, reason).toBe(reason);
        expect(answer.responseCode, reason).toBe(
          decisionReasons[reason as keyof typeof decisionReasons].code,
        );
      }
      // The daily limit: 20 + 10 fit, one more cent does not; a new day starts again.
      expect((await purchase(limited, 20_00)).status).toBe('approved');
      expect((await purchase(limited, 10_00)).status).toBe('approved');
      expect((await purchase(limited, 1)).reason).toBe('DAILY_LIMIT');
      // A card both blocked and expired reports the status first (the documented order).
      await issuer.setCardStatus(expired.id, 'blocked');
      expect((await purchase(expired, 100)).reason).toBe('CARD_BLOCKED');
    });

    it('gives a retransmission the stored answer and holds once', async () => {
      const card = await newCard(100_00);
      const key = nextKey();
      const request = { transactionKey: key, pan: card.pan, amountMinor: 5_00, currency: '978' };
      const first = await issuer.authorize(request);
      const again = await issuer.authorize(request);
      expect(again).toEqual({ ...first, repeated: true });
      const copies = await Promise.all(Array.from({ length: 12 }, () => issuer.authorize(request)));
      for (const copy of copies) expect(copy.authorizationCode).toBe(first.authorizationCode);
      expect((await issuer.account(card.accountId)).heldMinor).toBe(5_00);
    });

    it('holds once when concurrent first copies race', async () => {
      const card = await newCard(100_00);
      const request = { transactionKey: nextKey(), pan: card.pan, amountMinor: 7_00, currency: '978' };
      const answers = await Promise.all(Array.from({ length: 16 }, () => issuer.authorize(request)));
      expect(new Set(answers.map((a) => a.authorizationCode)).size).toBe(1);
      expect(answers.filter((a) => !a.repeated).length).toBe(1);
      expect((await issuer.account(card.accountId)).heldMinor).toBe(7_00);
    });

    it('keeps the available balance above the limit when concurrent purchases compete', async () => {
      const card = await newCard(10_00, {}, 5_00);
      const answers = await Promise.all(Array.from({ length: 20 }, () => purchase(card, 1_00)));
      expect(answers.filter((a) => a.status === 'approved').length).toBe(15);
      expect(answers.filter((a) => a.reason === 'INSUFFICIENT_FUNDS').length).toBe(5);
      expect(await issuer.account(card.accountId)).toMatchObject({ heldMinor: 15_00, availableMinor: -5_00 });
    });

    it('releases a hold exactly once, whatever the repeats', async () => {
      const card = await newCard(100_00);
      const key = nextKey();
      await issuer.authorize({ transactionKey: key, pan: card.pan, amountMinor: 40_00, currency: '978' });
      const answers = await Promise.all([
        issuer.reverse({ originalKey: key, mti: '0420' }),
        issuer.reverse({ originalKey: key, mti: '0421' }),
        issuer.reverse({ originalKey: key, mti: '0400' }),
      ]);
      expect(answers.filter((a) => !a.repeated)).toEqual([
        { outcome: 'released', releasedMinor: 40_00, repeated: false },
      ]);
      expect(await issuer.reverse({ originalKey: key, mti: '0421' })).toEqual({
        outcome: 'released',
        releasedMinor: 40_00,
        repeated: true,
      });
      expect((await issuer.account(card.accountId)).heldMinor).toBe(0);
    });

    it('records a reversal for an unknown original, and declines the original when it comes late', async () => {
      const card = await newCard(100_00);
      const key = nextKey();
      expect(await issuer.reverse({ originalKey: key, mti: '0420' })).toMatchObject({
        outcome: 'original-unknown',
      });
      const late = await issuer.authorize({
        transactionKey: key,
        pan: card.pan,
        amountMinor: 1_00,
        currency: '978',
      });
      expect(late).toMatchObject({
        status: 'declined',
        reason: 'REVERSED_BEFORE_ARRIVAL',
        responseCode: '12',
      });
      expect((await issuer.account(card.accountId)).heldMinor).toBe(0);
    });

    it('leaves nothing held when a reversal races its original', async () => {
      const card = await newCard(1_000_00);
      const keys = Array.from({ length: 24 }, () => nextKey());
      const results = await Promise.all(
        keys.map(async (key, i) => {
          const authorize = () =>
            issuer.authorize({ transactionKey: key, pan: card.pan, amountMinor: 1_00, currency: '978' });
          const reverse = () => issuer.reverse({ originalKey: key, mti: '0420' });
          // Half start with the original, half with the reversal.
          if (i % 2 === 0) return Promise.all([authorize(), reverse()]);
          const [reversal, answer] = await Promise.all([reverse(), authorize()]);
          return [answer, reversal] as const;
        }),
      );
      for (const [answer, reversal] of results) {
        if (answer.status === 'approved') expect(reversal.outcome).toBe('released');
        else
          expect([answer.reason, reversal.outcome]).toEqual(['REVERSED_BEFORE_ARRIVAL', 'original-unknown']);
      }
      expect((await issuer.account(card.accountId)).heldMinor).toBe(0);
    });

    it('captures holds into postings, alone and in a batch, once each', async () => {
      const card = await newCard(100_00);
      const a = await purchase(card, 30_00);
      const b = await purchase(card, 20_00);
      const c = await purchase(card, 10_00);
      expect(await issuer.capture(a.authorizationCode as string, 25_00)).toEqual({
        status: 'captured',
        authorizationCode: a.authorizationCode,
        capturedMinor: 25_00,
        releasedMinor: 5_00,
      });
      expect((await issuer.capture(a.authorizationCode as string, 25_00)).status).toBe('already-captured');
      expect((await issuer.capture(b.authorizationCode as string, 20_01)).status).toBe('amount-invalid');
      const batch = await issuer.captureBatch([
        { authorizationCode: b.authorizationCode as string, amountMinor: 20_00 },
        { authorizationCode: c.authorizationCode as string, amountMinor: 10_00 },
        { authorizationCode: 'NOSUCH', amountMinor: 1 },
      ]);
      expect(batch.capturedCount).toBe(2);
      expect(batch.capturedMinor).toBe(30_00);
      expect(batch.results[2]?.status).toBe('not-found');
      expect(await issuer.account(card.accountId)).toMatchObject({
        balanceMinor: 45_00,
        heldMinor: 0,
        availableMinor: 45_00,
      });
    });

    it('lets one of a capture and a reversal racing on one hold win', async () => {
      const card = await newCard(100_00);
      const key = nextKey();
      const answer = await issuer.authorize({
        transactionKey: key,
        pan: card.pan,
        amountMinor: 10_00,
        currency: '978',
      });
      const [captured, reversed] = await Promise.all([
        issuer.capture(answer.authorizationCode as string, 10_00),
        issuer.reverse({ originalKey: key, mti: '0420' }),
      ]);
      const capturedWon = captured.status === 'captured';
      expect(capturedWon).toBe(reversed.outcome === 'already-captured');
      expect(capturedWon).toBe(reversed.outcome !== 'released');
      const account = await issuer.account(card.accountId);
      expect(account.heldMinor).toBe(0);
      expect(account.balanceMinor).toBe(capturedWon ? 90_00 : 100_00);
    });

    it('posts a stand-in advice once, even above the limit, and acknowledges every copy', async () => {
      const card = await newCard(5_00);
      const request = {
        transactionKey: nextKey(),
        pan: card.pan,
        amountMinor: 8_00,
        currency: '978',
        authorizationCode: 'STD001',
      };
      const answers = await Promise.all([
        issuer.postAdvice(request),
        issuer.postAdvice(request),
        issuer.postAdvice(request),
      ]);
      expect(answers.filter((a) => !a.repeated).length).toBe(1);
      expect(answers[0]?.authorizationCode).toBe('STD001');
      expect(await issuer.account(card.accountId)).toMatchObject({ heldMinor: 8_00, availableMinor: -3_00 });
      // Nothing the issuer decides goes further below.
      expect((await purchase(card, 1)).reason).toBe('INSUFFICIENT_FUNDS');
      const unknown = await issuer.postAdvice({
        ...request,
        transactionKey: nextKey(),
        pan: '4761739001010119',
      });
      expect(unknown.reason).toBe('CARD_UNKNOWN');
    });

    it('answers ID&V green, yellow with an OTP in the outbox, or red', async () => {
      const green = await newCard();
      const yellow = await newCard(100_00, { stepUp: true });
      const blocked = await newCard();
      await issuer.setCardStatus(blocked.id, 'blocked');
      const expired = await newCard(100_00, { expiry: '2501' });
      expect(await issuer.verifyAccount({ transactionKey: nextKey(), pan: green.pan })).toMatchObject({
        status: 'approved',
        responseCode: '00',
      });
      expect(await issuer.otpOutbox.read(green.cardholderId)).toEqual([]);
      const key = nextKey();
      const stepUp = await issuer.verifyAccount({ transactionKey: key, pan: yellow.pan });
      expect(stepUp).toMatchObject({ status: 'step-up', responseCode: '1A', reason: 'IDV_STEP_UP' });
      // A repeat of the same verification sends no second OTP.
      expect((await issuer.verifyAccount({ transactionKey: key, pan: yellow.pan })).repeated).toBe(true);
      const outbox = await issuer.otpOutbox.read(yellow.cardholderId);
      expect(outbox.length).toBe(1);
      expect(outbox[0]?.code).toMatch(/^[0-9]{6}$/);
      expect(outbox[0]?.cardMasked).toBe(yellow.panMasked);
      expect(await issuer.otpOutbox.read(yellow.cardholderId)).toEqual([]);
      const red: [string, string][] = [
        ['4761739001010119', '14'],
        [blocked.pan, '62'],
        [expired.pan, '54'],
      ];
      for (const [pan, code] of red)
        expect(await issuer.verifyAccount({ transactionKey: nextKey(), pan })).toMatchObject({
          status: 'declined',
          responseCode: code,
        });

      // The OTP: a wrong code is '55', the right one '00' once; then nothing is open.
      const code = outbox[0]?.code as string;
      const wrong = code === '000000' ? '111111' : '000000';
      expect(
        await issuer.checkOtp({ transactionKey: nextKey(), pan: yellow.pan, code: wrong }),
      ).toMatchObject({ responseCode: '55', reason: 'OTP_MISMATCH' });
      const right = { transactionKey: nextKey(), pan: yellow.pan, code };
      expect(await issuer.checkOtp(right)).toMatchObject({ responseCode: '00', status: 'approved' });
      expect(await issuer.checkOtp(right)).toMatchObject({ responseCode: '00', repeated: true });
      expect(await issuer.checkOtp({ transactionKey: nextKey(), pan: yellow.pan, code })).toMatchObject({
        responseCode: '55',
        reason: 'OTP_NONE',
      });
    });

    it('limits OTP tries, expires OTPs, and keeps only the latest open', async () => {
      const card = await newCard(100_00, { stepUp: true });
      await issuer.verifyAccount({ transactionKey: nextKey(), pan: card.pan });
      h.clock.advance(1000);
      await issuer.verifyAccount({ transactionKey: nextKey(), pan: card.pan });
      const [older, latest] = await issuer.otpOutbox.read(card.cardholderId);
      expect(older && latest).toBeTruthy();
      const codes = [older?.code, latest?.code];
      // Only the latest counts; three wrong tries close it, and then even the right code fails.
      if (codes[0] !== codes[1])
        expect(
          (await issuer.checkOtp({ transactionKey: nextKey(), pan: card.pan, code: codes[0] as string }))
            .reason,
        ).toBe('OTP_MISMATCH');
      const wrong = latest?.code === '999999' ? '999998' : '999999';
      while (
        (await issuer.checkOtp({ transactionKey: nextKey(), pan: card.pan, code: wrong })).reason ===
        'OTP_MISMATCH'
      ) {}
      const after = await issuer.checkOtp({
        transactionKey: nextKey(),
        pan: card.pan,
        code: latest?.code as string,
      });
      expect(['OTP_NONE', 'OTP_TRIES_EXCEEDED']).toContain(after.reason);

      await issuer.verifyAccount({ transactionKey: nextKey(), pan: card.pan });
      const [fresh] = await issuer.otpOutbox.read(card.cardholderId);
      h.clock.advance(5 * 60_000);
      expect(
        (await issuer.checkOtp({ transactionKey: nextKey(), pan: card.pan, code: fresh?.code as string }))
          .reason,
      ).toBe('OTP_EXPIRED');
      h.clock.advance(-5 * 60_000);

      // An OTP never read stays in the outbox until its code expires; then it is deleted.
      await issuer.verifyAccount({ transactionKey: nextKey(), pan: card.pan });
      expect((await issuer.otpOutbox.expire()).removed).toBe(0);
      h.clock.advance(5 * 60_000);
      let removed = 0;
      for (let more = true; more; ) {
        const round = await issuer.otpOutbox.expire(1);
        removed += round.removed;
        more = round.more;
      }
      expect(removed).toBeGreaterThanOrEqual(1);
      expect(await issuer.otpOutbox.read(card.cardholderId)).toEqual([]);
      h.clock.advance(-5 * 60_000);
      expect(() => issuer.otpOutbox.expire(0)).toThrow(/positive whole number/);
    });

    it('turns ID&V yellow per card flag, and red after too many attempts', async () => {
      const card = await newCard();
      expect((await issuer.verifyAccount({ transactionKey: nextKey(), pan: card.pan })).responseCode).toBe(
        '00',
      );
      await issuer.setStepUp(card.id, true);
      expect((await issuer.verifyAccount({ transactionKey: nextKey(), pan: card.pan })).responseCode).toBe(
        '1A',
      );
      await issuer.setStepUp(card.id, false);
      const codes: string[] = [];
      for (let i = 0; i < 10; i++)
        codes.push((await issuer.verifyAccount({ transactionKey: nextKey(), pan: card.pan })).responseCode);
      // Attempts 3 to 12 of the day: the 3rd green, 4th to 10th review (step-up), 11th on red ('05').
      expect(codes).toEqual(['00', '1A', '1A', '1A', '1A', '1A', '1A', '1A', '05', '05']);
    });

    it('reissues a card: new PAN and expiry, old card closed, an event for the token service', async () => {
      const card = await newCard(100_00);
      const before = await issuer.events();
      const reissued = await issuer.reissueCard(card.id);
      h.pans.add(reissued.pan);
      expect(reissued.pan).not.toBe(card.pan);
      expect(reissued.pan.slice(0, 6)).toBe(card.pan.slice(0, 6));
      expect(reissued.accountId).toBe(card.accountId);
      expect(reissued.expiry).toBe('2912');
      expect(await issuer.card(card.id)).toMatchObject({ status: 'closed', replacedBy: reissued.id });
      const events = await issuer.events(before.at(-1)?.seq ?? 0);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: 'card.reissued',
        oldPan: card.pan,
        newPan: reissued.pan,
        newExpiry: '2912',
        oldCardId: card.id,
        newCardId: reissued.id,
      });
      expect((await purchase(card, 1_00)).reason).toBe('CARD_CLOSED');
      expect((await purchase(reissued, 1_00)).status).toBe('approved');
      await expect(issuer.reissueCard(card.id)).rejects.toMatchObject({ code: 'ERR_ISSUER_STATUS' });
      await expect(issuer.setCardStatus(card.id, 'active')).rejects.toMatchObject({
        code: 'ERR_ISSUER_STATUS',
      });
    });

    it('expires holds past holdExpiryMs once, oldest first and in batches; a late reversal finds nothing held, a late capture still posts', async () => {
      // Its own issuer, whose holds last a minute, so the other tests' holds stay as they are.
      const x = await openHarness(backend, { seed: 7, holdExpiryMs: 60_000 });
      try {
        const account = await x.issuer.createAccount({
          cardholderId: 'ch-expiry',
          currency: '978',
          openingBalanceMinor: 100_00,
        });
        const card = await x.issuer.issueCard({ accountId: account.id });
        const buy = (transactionKey: string, amountMinor: number) =>
          x.issuer.authorize({ transactionKey, pan: card.pan, amountMinor, currency: '978' });
        const available = async () => (await x.issuer.account(account.id)).availableMinor;
        const oldKey = nextKey();
        const old = await buy(oldKey, 30_00);
        x.clock.advance(30_000);
        const young = await buy(nextKey(), 20_00);
        const reversedKey = nextKey();
        await buy(reversedKey, 10_00);
        expect((await x.issuer.reverse({ originalKey: reversedKey, mti: '0420' })).outcome).toBe('released');
        expect(await available()).toBe(50_00);

        // A minute after the first: only it is due.
        x.clock.advance(30_001);
        expect(await x.issuer.expireHolds()).toEqual({ expired: 1, releasedMinor: 30_00, more: false });
        expect(await available()).toBe(80_00);
        expect(await x.issuer.expireHolds()).toEqual({ expired: 0, releasedMinor: 0, more: false });
        // Its reversal, late, releases nothing more; its clearing still takes the money.
        expect(await x.issuer.reverse({ originalKey: oldKey, mti: '0420' })).toMatchObject({
          outcome: 'nothing-held',
          releasedMinor: 0,
        });
        expect((await x.issuer.capture(old.authorizationCode as string, 30_01)).status).toBe(
          'amount-invalid',
        );
        expect(await x.issuer.capture(old.authorizationCode as string, 25_00)).toEqual({
          status: 'captured',
          authorizationCode: old.authorizationCode,
          capturedMinor: 25_00,
          releasedMinor: 0,
        });
        expect((await x.issuer.capture(old.authorizationCode as string, 25_00)).status).toBe(
          'already-captured',
        );
        expect(await x.issuer.account(account.id)).toMatchObject({ balanceMinor: 75_00, heldMinor: 20_00 });

        // Four due (the young one and three more): two per call, oldest first.
        for (let i = 0; i < 3; i++) await buy(nextKey(), 1_00);
        x.clock.advance(60_001);
        expect(await x.issuer.expireHolds(2)).toEqual({ expired: 2, releasedMinor: 21_00, more: true });
        expect(await x.issuer.expireHolds(2)).toEqual({ expired: 2, releasedMinor: 2_00, more: false });
        expect(await x.issuer.account(account.id)).toMatchObject({ balanceMinor: 75_00, heldMinor: 0 });
        expect((await x.issuer.capture(young.authorizationCode as string, 20_00)).status).toBe('captured');

        // An expiry racing a reversal of the same hold: one release.
        const racedKey = nextKey();
        await buy(racedKey, 5_00);
        x.clock.advance(60_001);
        const [expiry, reversal] = await Promise.all([
          x.issuer.expireHolds(),
          x.issuer.reverse({ originalKey: racedKey, mti: '0420' }),
        ]);
        expect(expiry.expired + (reversal.outcome === 'released' ? 1 : 0)).toBe(1);
        expect(await x.issuer.account(account.id)).toMatchObject({ balanceMinor: 55_00, heldMinor: 0 });
        const ledger = await x.issuer.checkLedger();
        expect([ledger.sumMinor, ledger.mismatchedAccounts]).toEqual([0, []]);

        // Three hours later: the sweep crosses the quiet spell in one step (not ten minutes a
        // call), and the hold made after it comes due once.
        x.clock.advance(3 * 3_600_000);
        await buy(nextKey(), 3_00);
        x.clock.advance(60_001);
        const calls: HoldExpiry[] = [];
        do calls.push(await x.issuer.expireHolds());
        while (calls.at(-1)?.more && calls.length < 30);
        expect(calls.length).toBeLessThanOrEqual(2);
        expect(calls.at(-1)?.more).toBe(false);
        expect(calls.reduce((n, c) => n + c.expired, 0)).toBe(1);
        // Holds made within ten minutes of each other and due together: one window, one call.
        for (let i = 0; i < 3; i++) {
          await buy(nextKey(), 1_00);
          x.clock.advance(4 * 60_000);
        }
        x.clock.advance(60_001);
        expect(await x.issuer.expireHolds()).toMatchObject({ expired: 3, releasedMinor: 3_00 });
        expect(await x.issuer.expireHolds()).toEqual({ expired: 0, releasedMinor: 0, more: false });
        expect(await x.issuer.account(account.id)).toMatchObject({ balanceMinor: 55_00, heldMinor: 0 });

        await expect(x.issuer.expireHolds(0)).rejects.toMatchObject({ code: 'ERR_ISSUER_INPUT' });
        // A hold time that is not a positive whole number is refused before anything is opened.
        for (const holdExpiryMs of [0, -1, 1.5, Number.NaN])
          await expect(
            Issuer.open({
              engine: x.engine,
              hsm: undefined as never,
              keys: undefined as never,
              now: x.clock.now,
              random: () => new Uint8Array(0),
              holdExpiryMs,
            }),
          ).rejects.toMatchObject({ code: 'ERR_ISSUER_INPUT' });
        if (backend.name === 'SQLite') {
          // The sweep walks a range of the primary key (ids sort by creation time), not the table.
          const plan = await x.engine.read.all<{ detail: string }>(
            CompiledQuery.raw(
              "EXPLAIN QUERY PLAN SELECT * FROM issuer_authorizations WHERE id >= ? AND id < ? AND state = 'held' ORDER BY id LIMIT 10",
              ['au_0', 'au_1'],
            ),
          );
          expect(plan.map((r) => r.detail).join(' ')).toMatch(
            /SEARCH issuer_authorizations USING INDEX \S+ \(id>\? AND id<\?\)/,
          );
        }
      } finally {
        await x.close();
      }
    });

    it('stores no clear PAN in any database file', async () => {
      expect(h.pans.size).toBeGreaterThan(10);
      expect(clearPansIn(h.files(), h.pans)).toEqual([]);
    });

    it('logs PANs masked only', () => {
      const text = JSON.stringify(h.logs);
      expect(h.logs.length).toBeGreaterThan(0);
      for (const pan of h.pans) expect(text).not.toContain(pan);
      expect(text).toContain('******');
    });
  });
}
