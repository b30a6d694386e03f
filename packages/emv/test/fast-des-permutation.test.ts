import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  desFinalPermutationWords,
  desInitialPermutationWords,
  desKeyHalves,
  desPermutedChoice1,
  desState,
} from '../src/fast/des-core.ts';
import { INITIAL_PERMUTATION, PERMUTED_CHOICE_1 } from '../src/fast/des-tables.ts';

// IP, IP^-1 and PC1 in des-core.ts are computed by bit exchanges; these tests hold them to the
// tables of FIPS 46-3 (output bit i is input bit IP[i - 1], bits numbered 1..64 from the left).

/** Bit n (1-based from the left) of the 64-bit value held as two words. */
const bitOf = (hi: number, lo: number, n: number) => (n <= 32 ? hi >>> (32 - n) : lo >>> (64 - n)) & 1;

/** The 64-bit value, as two words, whose only set bit is bit n (1-based from the left). */
const onlyBit = (n: number): [number, number] => (n <= 32 ? [1 << (32 - n), 0] : [0, 1 << (64 - n)]);

/** IP straight from the standard's table, one bit at a time. */
function referenceIp(hi: number, lo: number): [number, number] {
  const out = [0, 0];
  INITIAL_PERMUTATION.forEach((source, i) => {
    out[i >> 5]! |= bitOf(hi, lo, source) << (31 - (i & 31));
  });
  return [out[0]! | 0, out[1]! | 0];
}

/** PC1 straight from the standard's table: C0 and D0, 28 bits each. */
function referencePc1(hi: number, lo: number): [number, number] {
  const out = [0, 0];
  PERMUTED_CHOICE_1.forEach((source, i) => {
    out[i < 28 ? 0 : 1]! |= bitOf(hi, lo, source) << (27 - (i % 28));
  });
  return [out[0]!, out[1]!];
}

const word = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });

describe('DES initial permutation by bit exchanges (FIPS 46-3)', () => {
  it('moves every single input bit where the standard table says', () => {
    for (let n = 1; n <= 64; n++) {
      const [hi, lo] = onlyBit(n);
      desInitialPermutationWords(hi, lo);
      expect([desState[0], desState[1]]).toEqual(referenceIp(hi, lo));
    }
  });

  it('equals the table on random blocks, and IP^-1 undoes it', () => {
    fc.assert(
      fc.property(word, word, (hi, lo) => {
        desInitialPermutationWords(hi, lo);
        const permuted = [desState[0]!, desState[1]!] as const;
        expect(permuted).toEqual(referenceIp(hi, lo));
        desFinalPermutationWords(permuted[0], permuted[1]);
        expect([desState[0], desState[1]]).toEqual([hi, lo]);
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('DES permuted choice 1 by bit exchanges (FIPS 46-3)', () => {
  it('moves every single key bit where the standard table says, and drops the parity bits', () => {
    for (let n = 1; n <= 64; n++) {
      const [hi, lo] = onlyBit(n);
      desPermutedChoice1(hi, lo);
      expect([desKeyHalves[0], desKeyHalves[1]]).toEqual(referencePc1(hi, lo));
    }
  });

  it('equals the table on random keys', () => {
    fc.assert(
      fc.property(word, word, (hi, lo) => {
        desPermutedChoice1(hi, lo);
        expect([desKeyHalves[0], desKeyHalves[1]]).toEqual(referencePc1(hi, lo));
      }),
      { numRuns: 5_000 },
    );
  });
});
