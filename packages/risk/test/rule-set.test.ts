import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dumpRuleSet, loadRuleSet, parseRuleSet, RiskError, ruleSetLimits } from '../src/index.ts';
import { ruleSet } from './arbitraries.ts';

const base = {
  version: 1,
  name: 'test',
  thresholds: { review: 50, decline: 100 },
  rules: [
    {
      id: 'big',
      reason: 'AMOUNT_HIGH',
      score: 60,
      when: { feature: 'amountMinor', op: 'gt', value: 100_00 },
    },
  ],
};

function failure(value: unknown): { code: string; path: readonly string[] | undefined; message: string } {
  try {
    loadRuleSet(value);
  } catch (error) {
    if (!(error instanceof RiskError)) throw error;
    return { code: error.code, path: error.path, message: error.message };
  }
  throw new Error('loaded');
}

const withRule = (rule: unknown) => ({ ...base, rules: [rule] });
const withWhen = (when: unknown) => withRule({ ...base.rules[0], when });

describe('loadRuleSet', () => {
  it('loads a valid set and returns a clean copy', () => {
    const loaded = loadRuleSet(base);
    expect(loaded).toEqual(base);
    expect(loaded).not.toBe(base);
  });

  it('refuses each kind of problem with the path of the failing property', () => {
    const cases: [unknown, string[]][] = [
      [null, []],
      [{ ...base, version: 2 }, ['version']],
      [{ ...base, extra: 1 }, ['extra']],
      [{ ...base, name: '' }, ['name']],
      [{ ...base, thresholds: { review: 10, decline: 5 } }, ['thresholds']],
      [{ ...base, thresholds: { review: 1.5, decline: 5 } }, ['thresholds', 'review']],
      [{ ...base, rules: {} }, ['rules']],
      [withRule({ ...base.rules[0], id: 'Bad Id' }), ['rules', '0', 'id']],
      [withRule({ ...base.rules[0], reason: 'lower' }), ['rules', '0', 'reason']],
      [withRule({ ...base.rules[0], score: 1001 }), ['rules', '0', 'score']],
      [withRule({ ...base.rules[0], action: 'block' }), ['rules', '0', 'action']],
      [{ ...base, rules: [base.rules[0], base.rules[0]] }, ['rules', '1', 'id']],
      [withWhen({ feature: 'shoeSize', op: 'gt', value: 1 }), ['rules', '0', 'when', 'feature']],
      [withWhen({ feature: 'amountMinor', op: 'like', value: 1 }), ['rules', '0', 'when', 'op']],
      [withWhen({ feature: 'amountMinor', op: 'gt', value: '1' }), ['rules', '0', 'when', 'value']],
      [withWhen({ feature: 'amountMinor', op: 'gt' }), ['rules', '0', 'when']],
      [withWhen({ feature: 'merchantCategoryCode', op: 'gt', value: '5999' }), ['rules', '0', 'when', 'op']],
      [withWhen({ feature: 'cdcvmPerformed', op: 'in', values: [true] }), ['rules', '0', 'when', 'op']],
      [withWhen({ feature: 'merchantCategoryCode', op: 'in', values: [] }), ['rules', '0', 'when', 'values']],
      [
        withWhen({ feature: 'amountMinor', op: 'gt', ref: { feature: 'currency', times: 2 } }),
        ['rules', '0', 'when', 'ref', 'feature'],
      ],
      [
        withWhen({ feature: 'amountMinor', op: 'gt', ref: { feature: 'amountMinor', times: Number.NaN } }),
        ['rules', '0', 'when', 'ref', 'times'],
      ],
      [withWhen({ all: [] }), ['rules', '0', 'when', 'all']],
      [
        withWhen({
          not: {
            not: {
              not: { not: { not: { not: { not: { not: { feature: 'amountMinor', op: 'present' } } } } } },
            },
          },
        }),
        ['rules', '0', 'when', 'not', 'not', 'not', 'not', 'not', 'not', 'not', 'not'],
      ],
      [withWhen({ feature: 'velocity.token.0h', op: 'gt', value: 1 }), ['rules', '0', 'when', 'feature']],
    ];
    for (const [value, path] of cases) {
      const f = failure(value);
      expect(f.code, JSON.stringify(path)).toBe('ERR_RISK_RULES');
      expect(f.path, JSON.stringify(value)).toEqual(path);
    }
  });

  it('accepts velocity features by subject and window', () => {
    expect(() =>
      loadRuleSet(withWhen({ feature: 'velocity.device.24h', op: 'gte', value: 5 })),
    ).not.toThrow();
  });

  it('limits the number of rules', () => {
    const rules = Array.from({ length: ruleSetLimits.rules + 1 }, (_, i) => ({
      ...base.rules[0],
      id: `r${i}`,
    }));
    expect(failure({ ...base, rules }).path).toEqual(['rules']);
  });

  it('parses JSON text, and refuses text that is not JSON', () => {
    expect(parseRuleSet(JSON.stringify(base))).toEqual(base);
    expect(() => parseRuleSet('{')).toThrow(RiskError);
  });

  it('never names a value in its messages', () => {
    const f = failure(withWhen({ feature: 'amountMinor', op: 'gt', value: '4761739001010119' }));
    expect(f.message).not.toContain('4761739001010119');
  });
});

describe('rule set properties', () => {
  it('load(dump(rules)) round-trips', () => {
    fc.assert(
      fc.property(ruleSet, (rules) => {
        const loaded = loadRuleSet(rules);
        expect(loaded).toEqual(rules);
        expect(loadRuleSet(dumpRuleSet(loaded))).toEqual(loaded);
        expect(loadRuleSet(JSON.parse(JSON.stringify(dumpRuleSet(loaded))))).toEqual(loaded);
      }),
      { numRuns: 300 },
    );
  });

  it('any JSON value gives a rule set or a RiskError, never another error', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          ruleSet.chain((r) => mutate(r)),
        ),
        (value) => {
          try {
            loadRuleSet(value);
          } catch (error) {
            expect(error).toBeInstanceOf(RiskError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

/** A valid set with one property somewhere replaced by any JSON value. */
function mutate(rules: unknown): fc.Arbitrary<unknown> {
  const paths: string[][] = [];
  const walk = (v: unknown, path: string[]): void => {
    paths.push(path);
    if (typeof v === 'object' && v !== null) for (const [k, c] of Object.entries(v)) walk(c, [...path, k]);
  };
  walk(rules, []);
  return fc.tuple(fc.constantFrom(...paths), fc.jsonValue()).map(([path, replacement]) => {
    const copy = JSON.parse(JSON.stringify(rules));
    if (path.length === 0) return replacement;
    let at = copy;
    for (const k of path.slice(0, -1)) at = at[k];
    at[path[path.length - 1] as string] = replacement;
    return copy;
  });
}
