import { toHex } from '@amulet/bytes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomPool } from '../src/index.ts';

describe('randomPool', () => {
  it('gives exactly the length asked for, from 0 bytes up to many pools', () => {
    const random = randomPool(64);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200_000 }), (length) => {
        expect(random(length).length).toBe(length);
      }),
      { numRuns: 300 },
    );
  });

  it('never hands out the same bytes twice, across refills of the pool', () => {
    const random = randomPool(256);
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      // 16 bytes at a time, with an odd-sized draw now and then so draws straddle a refill.
      if (i % 7 === 0) random(5);
      const hex = toHex(random(16));
      expect(seen.has(hex)).toBe(false);
      expect(hex).not.toBe('00'.repeat(16));
      seen.add(hex);
    }
  });

  it('fills a draw larger than one Web Crypto call in every part', () => {
    const big = randomPool()(150_000);
    for (const at of [0, 65_536, 131_072]) {
      const part = big.subarray(at, at + 1024);
      expect(part.some((b) => b !== 0)).toBe(true);
    }
    expect(toHex(big.subarray(0, 32))).not.toBe(toHex(big.subarray(65_536, 65_568)));
  });

  it('spreads its bytes evenly (each of 256 values within 20% of its share of 1 MiB)', () => {
    const random = randomPool();
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 1024; i++) for (const b of random(1024)) counts[b]!++;
    for (const n of counts) expect(Math.abs(n - 4096)).toBeLessThan(820);
  });

  it('refuses a length or a pool size that is not a whole number in range', () => {
    const random = randomPool();
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => random(bad)).toThrow(RangeError);
    for (const bad of [0, 15, 65_537, 100.5]) expect(() => randomPool(bad)).toThrow(RangeError);
  });
});
