import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RiskError, SlidingWindowCounter, velocityFeatures } from '../src/index.ts';

describe('SlidingWindowCounter', () => {
  it('counts events in (at - window, at]', () => {
    const c = new SlidingWindowCounter({ maxWindowMs: 3_600_000 });
    for (const t of [0, 1000, 59_999, 60_000, 61_000]) c.record('card-1', t);
    expect(c.count('card-1', 61_000, 60_000)).toBe(3); // 1000 is out: (1000, 61000]
    expect(c.count('card-1', 60_000, 60_000)).toBe(3); // 0 is out: (0, 60000]
    expect(c.count('card-1', 61_000, 3_600_000)).toBe(5);
    expect(c.count('card-2', 61_000, 60_000)).toBe(0);
  });

  it('takes times out of order', () => {
    const c = new SlidingWindowCounter({ maxWindowMs: 10_000 });
    c.record('k', 5000);
    c.record('k', 1000);
    c.record('k', 3000);
    expect(c.count('k', 5000, 3000)).toBe(2);
  });

  it('forgets events no window reaches, and keys beyond its bound', () => {
    const c = new SlidingWindowCounter({ maxWindowMs: 1000, maxKeys: 2, maxEventsPerKey: 3 });
    c.record('a', 0);
    c.record('b', 0);
    c.record('c', 0);
    expect(c.size).toBe(2);
    expect(c.count('a', 0, 1000)).toBe(0);
    for (let i = 0; i < 10; i++) c.record('c', 100 + i);
    expect(c.count('c', 200, 1000)).toBe(3);
  });

  it('refuses windows beyond its limit and times that are not numbers', () => {
    const c = new SlidingWindowCounter({ maxWindowMs: 1000 });
    expect(() => c.count('k', 0, 1001)).toThrow(RiskError);
    expect(() => c.record('k', Number.NaN)).toThrow(RiskError);
    expect(() => new SlidingWindowCounter({ maxWindowMs: 0 })).toThrow(RiskError);
  });

  it('gives velocity features by window name', () => {
    const c = new SlidingWindowCounter({ maxWindowMs: 86_400_000 });
    c.record('t', 0);
    c.record('t', 3_000_000);
    expect(velocityFeatures(c, 'token', 't', 3_000_000, ['1m', '1h', '24h'])).toEqual({
      'velocity.token.1m': 1,
      'velocity.token.1h': 2,
      'velocity.token.24h': 2,
    });
    expect(() => velocityFeatures(c, 'token', 't', 0, ['1w'])).toThrow(RiskError);
  });

  it('agrees with a naive count on any sequence of events', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b'), fc.integer({ min: 0, max: 100_000 })), {
          maxLength: 60,
        }),
        fc.integer({ min: 0, max: 120_000 }),
        fc.integer({ min: 1, max: 50_000 }),
        (events, at, window) => {
          const c = new SlidingWindowCounter({ maxWindowMs: 50_000 });
          const sorted = [...events].sort((x, y) => x[1] - y[1]);
          for (const [k, t] of sorted) c.record(k, t);
          // The counter forgets what is older than the newest event minus maxWindowMs, so ask only
          // at or after the newest event.
          const newest = sorted.length === 0 ? 0 : (sorted[sorted.length - 1] as [string, number])[1];
          const when = Math.max(at, newest);
          const naive = sorted.filter(([k, t]) => k === 'a' && t <= when && t > when - window).length;
          expect(c.count('a', when, window)).toBe(naive);
        },
      ),
    );
  });
});
