import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLuhnValid, LuhnError, luhnCheckDigit } from '../src/index.ts';
import { loadVectors } from './vector-file.ts';

describe('luhn.json: Luhn check digits (ISO/IEC 7812-1 Annex B)', () => {
  for (const v of loadVectors('luhn')) {
    it(`${v.id} (${v.source.repo})`, () => {
      const number: string = v.inputs.number;
      let checked = 0;
      if (v.expected.valid !== undefined) {
        expect(isLuhnValid(number)).toBe(v.expected.valid);
        checked++;
      }
      if (v.expected.check_digit_to_append !== undefined) {
        expect(luhnCheckDigit(number)).toBe(v.expected.check_digit_to_append);
        expect(isLuhnValid(number + v.expected.check_digit_to_append)).toBe(true);
        checked++;
      }
      expect(checked).toBeGreaterThan(0);
    });
  }
});

describe('Luhn properties and input checks', () => {
  const digits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 40 });

  it('appending the check digit makes a valid number, and changing any one digit breaks it', () => {
    fc.assert(
      fc.property(digits, fc.nat(), fc.integer({ min: 1, max: 9 }), (payload, at, delta) => {
        const number = payload + luhnCheckDigit(payload);
        expect(isLuhnValid(number)).toBe(true);
        const position = at % number.length;
        const changed = String((Number(number[position]) + delta) % 10);
        expect(isLuhnValid(number.slice(0, position) + changed + number.slice(position + 1))).toBe(false);
      }),
      { numRuns: 10_000 },
    );
  });

  it('never crashes: any string gives a result or a LuhnError', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        for (const run of [() => isLuhnValid(text), () => luhnCheckDigit(text)]) {
          try {
            run();
          } catch (error) {
            expect(error).toBeInstanceOf(LuhnError);
          }
        }
      }),
      { numRuns: 10_000 },
    );
  });

  it('refuses empty input, non-digits and non-strings without echoing them', () => {
    for (const bad of ['', '4111 1111', '4111-1111', '４１１１', '12a4']) {
      for (const run of [() => isLuhnValid(bad), () => luhnCheckDigit(bad)]) {
        try {
          run();
          throw new Error('expected a LuhnError');
        } catch (error) {
          expect(error).toBeInstanceOf(LuhnError);
          expect((error as LuhnError).code).toBe('ERR_LUHN_INPUT');
          if (bad !== '') expect((error as Error).message).not.toContain(bad);
        }
      }
    }
    expect(() => isLuhnValid(4111 as unknown as string)).toThrow(LuhnError);
  });
});
