import { createMessage, type FieldValue, Iso8583Error } from '@amulet/iso8583';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  authorizationKey,
  Field,
  interchangeCodec,
  interchangeSpec,
  originalAuthorizationKey,
} from '../src/index.ts';

const digits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
const ans = (max: number) =>
  fc.string({ unit: fc.constantFrom(...'ABCXYZ 0189-/'), minLength: 1, maxLength: max });

const messages = fc
  .record({
    mti: fc.constantFrom(
      '0100',
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
    pan: fc.option(digits(12, 19), { nil: undefined }),
    amount: digits(12, 12),
    stan: digits(6, 6),
    dt: digits(10, 10),
    acquirer: digits(1, 11),
    terminal: fc.string({ unit: fc.constantFrom(...'T0123456789'), minLength: 8, maxLength: 8 }),
    merchant: fc.option(
      ans(15).map((v) => v.padEnd(15, ' ')),
      { nil: undefined },
    ),
    data: fc.option(ans(99), { nil: undefined }),
    icc: fc.option(fc.uint8Array({ minLength: 8, maxLength: 8 }), { nil: undefined }),
  })
  .map((r) => {
    const fields = new Map<number, FieldValue>([
      [Field.amount, r.amount],
      [Field.transmissionDateTime, r.dt],
      [Field.stan, r.stan],
      [Field.acquiringInstitutionId, r.acquirer],
      [Field.terminalId, r.terminal],
    ]);
    if (r.pan !== undefined) fields.set(Field.pan, r.pan);
    if (r.merchant !== undefined) fields.set(Field.merchantId, r.merchant);
    if (r.data !== undefined) fields.set(Field.additionalDataPrivate, r.data);
    if (r.icc !== undefined) fields.set(Field.iccData, [{ tag: '9F26', value: r.icc }]);
    return createMessage(interchangeSpec, r.mti, fields);
  });

describe('the interchange codec', () => {
  it('round-trips any message: decode(encode(m)) equals m, and the keys survive', () => {
    fc.assert(
      fc.property(messages, (message) => {
        const back = interchangeCodec.decode(interchangeCodec.encode(message));
        expect(back.mti).toBe(message.mti);
        expect(new Map(back.fields)).toEqual(new Map(message.fields));
        expect(interchangeCodec.requestKey(back)).toBe(interchangeCodec.requestKey(message));
      }),
      { numRuns: 300 },
    );
  });

  it('never crashes: any bytes give a message or an Iso8583Error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          interchangeCodec.decode(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(Iso8583Error);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('pairs a request with its response, and keeps 0100, 0120 and 0420 of one STAN apart', () => {
    const base = new Map<number, FieldValue>([
      [Field.stan, '000042'],
      [Field.acquiringInstitutionId, '123456'],
      [Field.terminalId, 'T0000001'],
    ]);
    const key = (mti: string) =>
      interchangeCodec.requestKey(createMessage(interchangeSpec, mti, new Map(base)));
    expect(key('0100')).toBe(key('0110'));
    expect(key('0101')).toBe(key('0110'));
    expect(key('0420')).toBe(key('0430'));
    expect(key('0421')).toBe(key('0430'));
    expect(new Set([key('0100'), key('0120'), key('0400'), key('0420'), key('0800')]).size).toBe(5);
    expect(interchangeCodec.isResponse(createMessage(interchangeSpec, '0430'))).toBe(true);
    expect(interchangeCodec.isResponse(createMessage(interchangeSpec, '0421'))).toBe(false);
  });

  it("a reversal's field 90 names the same transactionKey as its original", () => {
    const original = createMessage(
      interchangeSpec,
      '0100',
      new Map<number, FieldValue>([
        [Field.stan, '000042'],
        [Field.transmissionDateTime, '1203093000'],
        [Field.acquiringInstitutionId, '123456'],
        [Field.terminalId, 'T0000001'],
      ]),
    );
    const reversal = createMessage(
      interchangeSpec,
      '0420',
      new Map<number, FieldValue>([
        [Field.terminalId, 'T0000001'],
        [Field.originalDataElements, `0100000042120309300000000123456${'0'.repeat(11)}`],
      ]),
    );
    expect(originalAuthorizationKey(reversal)).toBe(authorizationKey(original));
    expect(originalAuthorizationKey(createMessage(interchangeSpec, '0420'))).toBeUndefined();
  });
});
