import { Field, interchangeSpec } from '@amulet/contracts';
import { createMessage, type Iso8583Message } from '@amulet/iso8583';
import {
  createMemoryTransport,
  createTcpTransport,
  type Transport,
  type TransportClient,
  type TransportServer,
} from '@amulet/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IssuedCard, iso8583Codec, listenIssuer } from '../src/index.ts';
import { type Harness, openHarness, sqliteBackend } from './fixtures.ts';
import { authorizationRequest, otpCheck, reversalOf, verification, withMti } from './messages.ts';

const transports: [string, () => Transport<Iso8583Message, unknown>, unknown][] = [
  [
    'in memory',
    () => createMemoryTransport({ codec: iso8583Codec }) as Transport<Iso8583Message, unknown>,
    { name: 'issuer' },
  ],
  [
    'TCP',
    () => createTcpTransport({ codec: iso8583Codec }) as Transport<Iso8583Message, unknown>,
    { host: '127.0.0.1', port: 0 },
  ],
];

const field = (m: Iso8583Message, n: number) => m.fields.get(n);

for (const [name, make, endpoint] of transports) {
  describe(`issuer ISO 8583 endpoint over ${name}`, () => {
    let h: Harness;
    let server: TransportServer<Iso8583Message, unknown>;
    let client: TransportClient<Iso8583Message>;
    let card: IssuedCard;
    let stepUp: IssuedCard;

    beforeAll(async () => {
      h = await openHarness(sqliteBackend, { seed: 7 });
      const transport = make();
      server = await listenIssuer(h.issuer, transport, endpoint);
      client = transport.connect(server.endpoint, { defaultTimeoutMs: 10_000 });
      await client.connected();
      const account = await h.issuer.createAccount({
        cardholderId: 'alice',
        currency: '978',
        openingBalanceMinor: 100_00,
      });
      card = await h.issuer.issueCard({ accountId: account.id });
      stepUp = await h.issuer.issueCard({ accountId: account.id, stepUp: true });
      h.pans.add(card.pan);
      h.pans.add(stepUp.pan);
    });

    afterAll(async () => {
      await client.close();
      await server.close();
      expect((await h.issuer.checkLedger()).sumMinor).toBe(0);
      await h.close();
    });

    it('answers an 0800 echo with an 0810', async () => {
      const response = await client.request(
        createMessage(
          interchangeSpec,
          '0800',
          new Map([
            [Field.stan, '000001'],
            [Field.transmissionDateTime, '1203080000'],
          ]),
        ),
      );
      expect(response.mti).toBe('0810');
      expect(field(response, Field.responseCode)).toBe('00');
    });

    it('approves a purchase: 0110 with 38, 39 and 4 echoed; an 0101 repeat gets the same answer, one hold', async () => {
      const request = authorizationRequest({ pan: card.pan, amountMinor: 12_34 });
      const response = await client.request(request);
      expect(response.mti).toBe('0110');
      expect(field(response, Field.responseCode)).toBe('00');
      expect(field(response, Field.amount)).toBe('000000001234');
      expect(field(response, Field.authorizationIdResponse)).toMatch(/^[0-9A-Z]{6}$/);
      const repeat = await client.request(withMti(request, '0101'), { retransmission: true });
      expect(repeat.mti).toBe('0110');
      expect(field(repeat, Field.authorizationIdResponse)).toBe(
        field(response, Field.authorizationIdResponse),
      );
      expect((await h.issuer.account(card.accountId)).heldMinor).toBe(12_34);
      // A reversal advice and its repeat release the hold once.
      const reversal = await client.request(reversalOf(request, '0420'));
      expect(reversal.mti).toBe('0430');
      expect(field(reversal, Field.responseCode)).toBe('00');
      const again = await client.request(reversalOf(request, '0421', field(reversal, Field.stan) as string), {
        retransmission: true,
      });
      expect(again.mti).toBe('0430');
      expect((await h.issuer.account(card.accountId)).heldMinor).toBe(0);
    });

    it('declines with the code of the reason', async () => {
      const unknown = await client.request(
        authorizationRequest({ pan: '4761739001010119', amountMinor: 100 }),
      );
      expect(field(unknown, Field.responseCode)).toBe('14');
      expect(field(unknown, Field.authorizationIdResponse)).toBeUndefined();
      const tooMuch = await client.request(authorizationRequest({ pan: card.pan, amountMinor: 1_000_00 }));
      expect(field(tooMuch, Field.responseCode)).toBe('51');
      const mismatch = await client.request(
        authorizationRequest({ pan: card.pan, amountMinor: 100, expiry: '3001' }),
      );
      expect(field(mismatch, Field.responseCode)).toBe('54');
    });

    it('answers a reversal (0400) for an unknown original with an 0410', async () => {
      const response = await client.request(
        reversalOf(authorizationRequest({ pan: card.pan, amountMinor: 5 }), '0400'),
      );
      expect(response.mti).toBe('0410');
      expect(field(response, Field.responseCode)).toBe('00');
    });

    it('runs ID&V: green, yellow with an OTP the companion reads, then the OTP check', async () => {
      expect(field(await client.request(verification(card.pan)), Field.responseCode)).toBe('00');
      expect(field(await client.request(verification('4761739001010119')), Field.responseCode)).toBe('14');
      expect(field(await client.request(verification(stepUp.pan)), Field.responseCode)).toBe('1A');
      const [message] = await h.issuer.otpOutbox.read('alice');
      expect(message?.code).toMatch(/^[0-9]{6}$/);
      const wrong = message?.code === '123456' ? '654321' : '123456';
      expect(field(await client.request(otpCheck(stepUp.pan, wrong)), Field.responseCode)).toBe('55');
      expect(
        field(await client.request(otpCheck(stepUp.pan, message?.code as string)), Field.responseCode),
      ).toBe('00');
    });

    it('posts an 0120 advice once and answers each copy with an 0130', async () => {
      const advice = authorizationRequest({ pan: card.pan, amountMinor: 3_00, mti: '0120' });
      const first = await client.request(advice);
      const repeat = await client.request(withMti(advice, '0121'), { retransmission: true });
      expect([first.mti, repeat.mti]).toEqual(['0130', '0130']);
      expect((await h.issuer.account(card.accountId)).heldMinor).toBe(3_00);
    });

    it('answers a request missing its key fields with format error 30, and an odd processing code with 12', async () => {
      const missing = authorizationRequest({ pan: card.pan, amountMinor: 1 });
      (missing.fields as Map<number, unknown>).delete(Field.transmissionDateTime);
      expect(field(await client.request(missing), Field.responseCode)).toBe('30');
      expect(
        field(
          await client.request(authorizationRequest({ pan: card.pan, processingCode: '300000' })),
          Field.responseCode,
        ),
      ).toBe('12');
      const badTokenData = authorizationRequest({ pan: card.pan, processingCode: '180000' });
      (badTokenData.fields as Map<number, unknown>).set(Field.additionalDataPrivate, '10');
      expect(field(await client.request(badTokenData), Field.responseCode)).toBe('30');
    });

    it('logs every message with the PAN masked', () => {
      const text = JSON.stringify(h.logs);
      expect(h.logs.some((l) => l.event === 'iso8583' && l.mti === '0100')).toBe(true);
      expect(text).not.toContain(card.pan);
      expect(text).not.toContain(stepUp.pan);
      expect(text).toContain(card.panMasked);
    });
  });
}

describe('issuer ISO 8583 endpoint when its database is gone', () => {
  it("answers '96' and logs the error code only", async () => {
    const h = await openHarness(sqliteBackend, { seed: 9 });
    const transport = createMemoryTransport({ codec: iso8583Codec });
    const server = await listenIssuer(h.issuer, transport, { name: 'issuer-down' });
    const client = transport.connect(server.endpoint, { defaultTimeoutMs: 10_000 });
    try {
      await client.connected();
      await h.engine.close();
      const response = await client.request(
        authorizationRequest({ pan: '4761739001010119', amountMinor: 1 }),
      );
      expect(response.fields.get(Field.responseCode)).toBe('96');
      // The reader fails first, with the driver's own error (no code): logged as 'unknown'.
      expect(h.logs).toContainEqual({ event: 'iso8583-error', mti: '0100', outcome: 'unknown' });
      expect(JSON.stringify(h.logs)).not.toContain('4761739001010119');
    } finally {
      await client.close();
      await server.close();
      await h.close();
    }
  });
});
