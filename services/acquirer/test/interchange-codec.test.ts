import { Field, interchangeSpec } from '@amulet/contracts';
import { createMessage, type FieldValue, Iso8583Error } from '@amulet/iso8583';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interchangeCodec } from '../src/index.ts';

const digits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });

describe("the acquirer's interchange codec", () => {
  it('round-trips: decode(encode(m)) equals m, with the same pairing key', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('0100', '0110', '0420', '0421', '0430'),
        digits(12, 19),
        digits(6, 6),
        digits(1, 11),
        fc.option(fc.uint8Array({ minLength: 1, maxLength: 40 }), { nil: undefined }),
        (mti, pan, stan, acquirer, icc) => {
          const fields = new Map<number, FieldValue>([
            [Field.pan, pan],
            [Field.stan, stan],
            [Field.acquiringInstitutionId, acquirer],
            [Field.terminalId, 'T0000001'],
          ]);
          if (icc !== undefined) fields.set(Field.iccData, [{ tag: '9F10', value: icc }]);
          const message = createMessage(interchangeSpec, mti, fields);
          const back = interchangeCodec.decode(interchangeCodec.encode(message));
          expect(new Map(back.fields)).toEqual(new Map(message.fields));
          expect(interchangeCodec.responseKey(back)).toBe(interchangeCodec.requestKey(message));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never crashes: any bytes give a message or an Iso8583Error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          interchangeCodec.decode(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(Iso8583Error);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
