import { isAmuletError } from '@amulet/bytes';
import { Field, interchangeCodec, interchangeSpec } from '@amulet/contracts';
import { createMessage, type FieldValue, type Iso8583Message } from '@amulet/iso8583';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { iso8583Codec, originalTransactionKey, requestTransactionKey, responseMti } from '../src/index.ts';
import { authorizationRequest, reversalOf } from './messages.ts';

const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));

/** Messages of the fields the issuer reads and writes, with values their formats allow. */
const message: fc.Arbitrary<Iso8583Message> = fc
  .record(
    {
      mti: fc.constantFrom(
        '0100',
        '0101',
        '0110',
        '0120',
        '0130',
        '0400',
        '0410',
        '0420',
        '0421',
        '0430',
        '0800',
        '0810',
      ),
      pan: digits(13, 19),
      processingCode: digits(6, 6),
      amount: digits(12, 12),
      transmissionDateTime: digits(10, 10),
      stan: digits(6, 6),
      expiry: digits(4, 4),
      acquirer: digits(1, 11),
      authorizationCode: fc.stringMatching(/^[0-9A-Z]{6}$/),
      responseCode: fc.stringMatching(/^[0-9A-Z]{2}$/),
      terminalId: fc.stringMatching(/^[ -~]{8}$/),
      tokenData: fc.stringMatching(/^[ -~]{0,60}$/),
      currency: digits(3, 3),
      original: digits(42, 42),
    },
    { requiredKeys: ['mti'] },
  )
  .map((r) => {
    const fields = new Map<number, FieldValue>();
    const set = (n: number, v: string | undefined) => v !== undefined && fields.set(n, v);
    set(Field.pan, r.pan);
    set(Field.processingCode, r.processingCode);
    set(Field.amount, r.amount);
    set(Field.transmissionDateTime, r.transmissionDateTime);
    set(Field.stan, r.stan);
    set(Field.expiry, r.expiry);
    set(Field.acquiringInstitutionId, r.acquirer);
    set(Field.authorizationIdResponse, r.authorizationCode);
    set(Field.responseCode, r.responseCode);
    set(Field.terminalId, r.terminalId);
    set(Field.additionalDataPrivate, r.tokenData);
    set(Field.currencyCode, r.currency);
    set(Field.originalDataElements, r.original);
    return createMessage(interchangeSpec, r.mti, fields);
  });

describe('the interchange codec (contracts.interchangeCodec, the one the issuer speaks)', () => {
  it('is the issuer export itself, not a copy', () => {
    expect(iso8583Codec).toBe(interchangeCodec);
  });

  it('round-trips: decode(encode(m)) equals m', () => {
    fc.assert(
      fc.property(message, (m) => {
        const back = interchangeCodec.decode(interchangeCodec.encode(m));
        expect(back.mti).toBe(m.mti);
        expect(new Map(back.fields)).toEqual(new Map(m.fields));
        expect(interchangeCodec.requestKey(back)).toBe(interchangeCodec.requestKey(m));
      }),
      { numRuns: 300 },
    );
  });

  it('never crashes: any bytes give a message or an AmuletError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          message
            .map((m) => interchangeCodec.encode(m))
            .chain((b) => fc.nat(b.length).map((n) => b.slice(0, n))),
        ),
        (bytes) => {
          try {
            const m = interchangeCodec.decode(bytes);
            interchangeCodec.requestKey(m);
            interchangeCodec.isResponse(m);
            requestTransactionKey(m);
            originalTransactionKey(m);
          } catch (error) {
            expect(isAmuletError(error)).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('pairs a request with its response and a repeat with its original', () => {
    const request = authorizationRequest({ pan: '4761739001010119', amountMinor: 1 });
    const response = createMessage(interchangeSpec, '0110', new Map(request.fields));
    expect(interchangeCodec.isResponse(request)).toBe(false);
    expect(interchangeCodec.isResponse(response)).toBe(true);
    expect(interchangeCodec.responseKey(response)).toBe(interchangeCodec.requestKey(request));
    // An advice about the same transaction is another exchange.
    expect(
      interchangeCodec.requestKey(createMessage(interchangeSpec, '0120', new Map(request.fields))),
    ).not.toBe(interchangeCodec.requestKey(request));
    expect(responseMti('0100')).toBe('0110');
    expect(responseMti('0101')).toBe('0110');
    expect(responseMti('0421')).toBe('0430');
    expect(responseMti('0120')).toBe('0130');
    expect(() => responseMti('0110')).toThrow(RangeError);
  });

  it("finds a reversal's original by field 90, with field 32 zero filled as field 90 has it", () => {
    const original = authorizationRequest({ pan: '4761739001010119', amountMinor: 1 });
    const reversal = reversalOf(original, '0420');
    expect(originalTransactionKey(reversal)).toBe(requestTransactionKey(original));
    expect(requestTransactionKey(original)).toBe(
      `00000012345/TERM0001/${original.fields.get(Field.stan)}/1203080000`,
    );
  });
});
