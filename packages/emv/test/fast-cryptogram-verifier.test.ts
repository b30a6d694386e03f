import { fromHex, toHex } from '@amulet/bytes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CryptoError } from '../src/cipher/index.ts';
import {
  type CryptogramVersionNumber,
  computeCryptogram,
  verifyCryptogram,
} from '../src/cryptogram/index.ts';
import { createCryptogramVerifier } from '../src/fast/index.ts';

const digits = (min: number, max: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((d) => d.join(''));
const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });

const transaction = fc.record({
  imk: bytes(16),
  pan: digits(12, 19),
  psn: digits(2, 2),
  atc: bytes(2),
  unpredictableNumber: bytes(4),
  data: fc.uint8Array({ maxLength: 80 }),
});

const profiles: { cvn: CryptogramVersionNumber; algorithm?: 'tdes' | 'aes' }[] = [
  { cvn: 10 },
  { cvn: 18 },
  { cvn: 22 },
  { cvn: 16 },
  { cvn: 17 },
  { cvn: 'emv-tdes' },
  { cvn: 'emv-aes' },
  { cvn: 22, algorithm: 'tdes' },
];

describe('createCryptogramVerifier equals computeCryptogram (Option A)', () => {
  for (const profile of profiles) {
    const name = `CVN ${profile.cvn}${profile.algorithm ? ` with ${profile.algorithm}` : ''}`;
    it(`${name}: compute matches the reference on random cards, ATCs and data`, () => {
      fc.assert(
        fc.property(transaction, (t) => {
          const input = { ...t, ...profile };
          const verifier = createCryptogramVerifier(input);
          const cryptogram = verifier.compute(input);
          expect(toHex(cryptogram)).toBe(toHex(computeCryptogram(input)));
          expect(verifier.verify({ ...input, cryptogram })).toBe(true);
        }),
        { numRuns: 1_000 },
      );
    });

    it(`${name}: verify rejects any single bit flip of the cryptogram`, () => {
      fc.assert(
        fc.property(transaction, fc.integer({ min: 0, max: 63 }), (t, bit) => {
          const input = { ...t, ...profile };
          const cryptogram = computeCryptogram(input);
          cryptogram[bit >> 3]! ^= 0x80 >> (bit & 7);
          expect(createCryptogramVerifier(input).verify({ ...input, cryptogram })).toBe(false);
          expect(verifyCryptogram({ ...input, cryptogram })).toBe(false);
        }),
        { numRuns: 1_000 },
      );
    });
  }

  it('one verifier serves many cards and ATCs in turn', () => {
    const imk = fromHex('0123456789ABCDEFFEDCBA9876543210');
    const verifier = createCryptogramVerifier({ cvn: 18, imk });
    fc.assert(
      fc.property(transaction, (t) => {
        const input = { ...t, imk, cvn: 18 as const };
        expect(toHex(verifier.compute(input))).toBe(toHex(computeCryptogram(input)));
      }),
      { numRuns: 1_000 },
    );
  });

  it('rejects a cryptogram of the wrong length, and changed data or ATC', () => {
    const input = {
      cvn: 17 as const,
      imk: fromHex('0123456789ABCDEFFEDCBA9876543210'),
      pan: '5413330089600010',
      psn: '01',
      atc: fromHex('0042'),
      unpredictableNumber: fromHex('A1B2C3D4'),
      data: fromHex('000000001250000000000000025000'),
    };
    const verifier = createCryptogramVerifier(input);
    const cryptogram = verifier.compute(input);
    expect(verifier.verify({ ...input, cryptogram: cryptogram.subarray(0, 7) })).toBe(false);
    expect(verifier.verify({ ...input, cryptogram, atc: fromHex('0043') })).toBe(false);
    expect(verifier.verify({ ...input, cryptogram, unpredictableNumber: fromHex('A1B2C3D5') })).toBe(false);
    expect(verifier.verify({ ...input, cryptogram, data: fromHex('000000001250000000000000025001') })).toBe(
      false,
    );
    expect(verifier.verify({ ...input, cryptogram, pan: '5413330089600011' })).toBe(false);
  });
});

describe('createCryptogramVerifier input checks', () => {
  const imk = fromHex('0123456789ABCDEFFEDCBA9876543210');
  const good = {
    pan: '5413330089600010',
    psn: '01',
    atc: fromHex('0042'),
    unpredictableNumber: fromHex('A1B2C3D4'),
    data: new Uint8Array(8),
  };

  function codeOf(run: () => unknown): string {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(CryptoError);
      const message = (error as Error).message;
      // No input value reaches the message.
      for (const secret of ['5413330089', '54133300896000', '0123456789', 'A1B2C3D4']) {
        expect(message).not.toContain(secret);
      }
      return (error as CryptoError).code;
    }
    throw new Error('expected a CryptoError');
  }

  it('refuses bad options', () => {
    expect(codeOf(() => createCryptogramVerifier({ cvn: 18, imk: new Uint8Array(24) }))).toBe(
      'ERR_KEY_LENGTH',
    );
    expect(codeOf(() => createCryptogramVerifier({ cvn: 99 as 18, imk }))).toBe('ERR_CVN');
    expect(codeOf(() => createCryptogramVerifier({ cvn: 17, imk, algorithm: 'aes' }))).toBe('ERR_ALGORITHM');
  });

  it('refuses malformed PAN, PSN, ATC, unpredictable number and data', () => {
    const verifier = createCryptogramVerifier({ cvn: 17, imk });
    const cryptogram = new Uint8Array(8);
    const cases: [Record<string, unknown>, string][] = [
      [{ pan: '54133300896' }, 'ERR_PAN'],
      [{ pan: '54133300896000101234' }, 'ERR_PAN'],
      [{ pan: '541333008960001X' }, 'ERR_PAN'],
      [{ pan: 'A413330089600010' }, 'ERR_PAN'],
      [{ psn: '1' }, 'ERR_PSN'],
      [{ psn: '0A' }, 'ERR_PSN'],
      [{ atc: new Uint8Array(3) }, 'ERR_ATC'],
      [{ unpredictableNumber: new Uint8Array(3) }, 'ERR_UN'],
      [{ unpredictableNumber: undefined }, 'ERR_UN'],
      [{ data: 'not bytes' }, 'ERR_DATA_TYPE'],
    ];
    for (const [change, code] of cases) {
      const input = { ...good, ...change } as typeof good;
      expect(codeOf(() => verifier.verify({ ...input, cryptogram }))).toBe(code);
      expect(codeOf(() => verifier.compute(input))).toBe(code);
    }
    expect(codeOf(() => verifier.verify({ ...good, cryptogram: 'x' as unknown as Uint8Array }))).toBe(
      'ERR_CRYPTOGRAM',
    );
  });
});
