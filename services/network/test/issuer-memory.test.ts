import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IssuerMemory } from '../src/issuer-memory.ts';

/** The plain model: a list in the order remembered, the oldest dropped when full or too old. */
class Model {
  readonly entries: { key: string; issuer: string; at: number }[] = [];
  constructor(
    readonly capacity: number,
    readonly ttlMs: number,
  ) {}
  #expire(now: number) {
    while (this.entries.length > 0 && now - this.entries[0]!.at > this.ttlMs) this.entries.shift();
  }
  remember(key: string, issuer: string, at: number) {
    this.#expire(at);
    if (this.entries.length === this.capacity) this.entries.shift();
    this.entries.push({ key, issuer, at });
  }
  issuerOf(key: string, now: number) {
    this.#expire(now);
    return this.entries.find((e) => e.key === key)?.issuer;
  }
}

describe('the issuer memory of dropped routes', () => {
  it('answers as a list of the newest entries within their lifetime would, over any run of operations', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 50 }),
        fc.array(
          fc.oneof(
            fc.record({
              op: fc.constant('remember' as const),
              issuer: fc.constantFrom('a', 'b', 'c'),
              dt: fc.nat(5),
            }),
            fc.record({ op: fc.constant('lookup' as const), back: fc.nat(80), dt: fc.nat(5) }),
          ),
          { maxLength: 400 },
        ),
        (capacity, ttlMs, ops) => {
          const memory = new IssuerMemory(capacity, ttlMs);
          const model = new Model(capacity, ttlMs);
          let now = 0;
          let made = 0;
          for (const op of ops) {
            now += op.dt;
            if (op.op === 'remember') {
              // Keys as the switch makes them: each authorization once.
              const key = `123456T0000001${String(made++).padStart(6, '0')}1203093000`;
              memory.remember(key, op.issuer, now);
              model.remember(key, op.issuer, now);
            } else {
              const key = `123456T0000001${String(made - 1 - op.back).padStart(6, '0')}1203093000`;
              expect(memory.issuerOf(key, now)).toBe(model.issuerOf(key, now));
            }
            expect(memory.size).toBe(model.entries.length);
          }
          // Every entry the model still has is found.
          for (const e of model.entries) expect(memory.issuerOf(e.key, now)).toBe(e.issuer);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('finds each of its newest entries after its ring has wrapped round', () => {
    const memory = new IssuerMemory(100_000, 60_000);
    for (let i = 0; i < 250_000; i++) memory.remember(`key-${i}`, i % 2 === 0 ? 'even' : 'odd', i / 10);
    expect(memory.size).toBe(100_000);
    expect(memory.issuerOf('key-149999', 25_000)).toBeUndefined();
    for (let i = 150_000; i < 250_000; i += 997)
      expect(memory.issuerOf(`key-${i}`, 25_000)).toBe(i % 2 === 0 ? 'even' : 'odd');
    // Past the lifetime, nothing is left.
    expect(memory.issuerOf('key-249999', 25_000 + 60_001)).toBeUndefined();
    expect(memory.size).toBe(0);
  });

  it('refuses a capacity that is not a positive whole number', () => {
    expect(() => new IssuerMemory(0, 1000)).toThrow(RangeError);
    expect(() => new IssuerMemory(1.5, 1000)).toThrow(RangeError);
  });
});
