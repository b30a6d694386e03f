import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateRisk, loadRuleSet } from '../src/index.ts';
import { features, ruleSet } from './arbitraries.ts';

/** The rules the issue names, one each. */
const rules = loadRuleSet({
  version: 1,
  name: 'issue-8',
  thresholds: { review: 40, decline: 80 },
  rules: [
    {
      id: 'token-velocity',
      reason: 'VELOCITY_TOKEN',
      score: 50,
      when: { feature: 'velocity.token.1m', op: 'gt', value: 3 },
    },
    {
      id: 'device-velocity',
      reason: 'VELOCITY_DEVICE',
      score: 30,
      when: { feature: 'velocity.device.1h', op: 'gte', value: 20 },
    },
    {
      id: 'amount-vs-history',
      reason: 'AMOUNT_ABOVE_HISTORY',
      score: 45,
      when: {
        all: [
          { feature: 'accountHistoryCount', op: 'gte', value: 5 },
          { feature: 'amountMinor', op: 'gt', ref: { feature: 'accountAverageAmountMinor', times: 5 } },
        ],
      },
    },
    {
      id: 'mcc',
      reason: 'MERCHANT_CATEGORY',
      score: 25,
      when: { feature: 'merchantCategoryCode', op: 'in', values: ['7995', '6051'] },
    },
    { id: 'atc-jump', reason: 'ATC_JUMP', score: 40, when: { feature: 'atcJump', op: 'gt', value: 50 } },
    {
      id: 'no-cdcvm',
      reason: 'CDCVM_ABSENT_ABOVE_LIMIT',
      score: 0,
      action: 'decline',
      when: {
        all: [
          { feature: 'cdcvmPerformed', op: 'eq', value: false },
          { feature: 'amountMinor', op: 'gt', ref: { feature: 'cvmLimitMinor', times: 1 } },
        ],
      },
    },
    {
      id: 'lost',
      reason: 'DEVICE_LOST',
      score: 100,
      when: { feature: 'deviceReportedLost', op: 'eq', value: true },
    },
    {
      id: 'attempts',
      reason: 'PROVISIONING_ATTEMPTS',
      score: 10,
      action: 'review',
      when: { feature: 'provisioningAttempts', op: 'gt', value: 3 },
    },
  ],
});

describe('evaluateRisk', () => {
  it('approves when nothing matches', () => {
    expect(evaluateRisk(rules, { amountMinor: 1000 })).toEqual({
      decision: 'approve',
      score: 0,
      reasons: [],
      matched: [],
    });
  });

  it('gives each rule its reason, in rule order', () => {
    const cases: [Record<string, number | string | boolean>, string, string][] = [
      [{ 'velocity.token.1m': 4 }, 'VELOCITY_TOKEN', 'review'],
      [{ 'velocity.device.1h': 20 }, 'VELOCITY_DEVICE', 'approve'],
      [
        { accountHistoryCount: 5, accountAverageAmountMinor: 1000, amountMinor: 5001 },
        'AMOUNT_ABOVE_HISTORY',
        'review',
      ],
      [{ merchantCategoryCode: '7995' }, 'MERCHANT_CATEGORY', 'approve'],
      [{ atcJump: 51 }, 'ATC_JUMP', 'review'],
      [
        { cdcvmPerformed: false, amountMinor: 5001, cvmLimitMinor: 5000 },
        'CDCVM_ABSENT_ABOVE_LIMIT',
        'decline',
      ],
      [{ deviceReportedLost: true }, 'DEVICE_LOST', 'decline'],
      [{ provisioningAttempts: 4 }, 'PROVISIONING_ATTEMPTS', 'review'],
    ];
    for (const [f, reason, decision] of cases) {
      const result = evaluateRisk(rules, f);
      expect(result.reasons, reason).toEqual([reason]);
      expect(result.decision, reason).toBe(decision);
    }
  });

  it('keeps to the boundaries of each comparison', () => {
    expect(evaluateRisk(rules, { 'velocity.token.1m': 3 }).matched).toEqual([]);
    expect(
      evaluateRisk(rules, { accountHistoryCount: 5, accountAverageAmountMinor: 1000, amountMinor: 5000 })
        .matched,
    ).toEqual([]);
    expect(
      evaluateRisk(rules, { accountHistoryCount: 4, accountAverageAmountMinor: 1000, amountMinor: 9000 })
        .matched,
    ).toEqual([]);
    expect(
      evaluateRisk(rules, { cdcvmPerformed: true, amountMinor: 9000, cvmLimitMinor: 5000 }).matched,
    ).toEqual([]);
    expect(
      evaluateRisk(rules, { cdcvmPerformed: false, amountMinor: 5000, cvmLimitMinor: 5000 }).matched,
    ).toEqual([]);
  });

  it('adds scores and compares the sum with the thresholds', () => {
    const result = evaluateRisk(rules, { 'velocity.token.1m': 9, 'velocity.device.1h': 25 });
    expect(result).toEqual({
      decision: 'decline',
      score: 80,
      reasons: ['VELOCITY_TOKEN', 'VELOCITY_DEVICE'],
      matched: ['token-velocity', 'device-velocity'],
    });
  });

  it('treats a missing feature, or one of the wrong type, as not matching', () => {
    expect(evaluateRisk(rules, { deviceReportedLost: 'yes' as unknown as boolean }).matched).toEqual([]);
    expect(evaluateRisk(rules, { atcJump: Number.NaN }).matched).toEqual([]);
    expect(evaluateRisk(rules, { atcJump: Number.POSITIVE_INFINITY }).matched).toEqual([]);
  });

  it('negates with not, and tells present from absent', () => {
    const set = loadRuleSet({
      version: 1,
      name: 'n',
      thresholds: { review: 1, decline: 2 },
      rules: [
        { id: 'no-mcc', reason: 'NO_MCC', score: 1, when: { feature: 'merchantCategoryCode', op: 'absent' } },
        {
          id: 'not-grocery',
          reason: 'NOT_GROCERY',
          score: 1,
          when: { not: { feature: 'merchantCategoryCode', op: 'eq', value: '5411' } },
        },
        {
          id: 'other',
          reason: 'OTHER',
          score: 1,
          when: { any: [{ feature: 'merchantCategoryCode', op: 'notIn', values: ['5411'] }] },
        },
      ],
    });
    expect(evaluateRisk(set, {}).matched).toEqual(['no-mcc', 'not-grocery']);
    expect(evaluateRisk(set, { merchantCategoryCode: '5411' }).matched).toEqual([]);
    expect(evaluateRisk(set, { merchantCategoryCode: '5999' }).matched).toEqual(['not-grocery', 'other']);
  });

  it('never throws on any rule set and any features record', () => {
    fc.assert(
      fc.property(ruleSet, features, (set, f) => {
        const result = evaluateRisk(set, f);
        expect(Number.isFinite(result.score)).toBe(true);
        expect(['approve', 'review', 'decline']).toContain(result.decision);
        expect(result.matched.length).toBeLessThanOrEqual(set.rules.length);
      }),
      { numRuns: 500 },
    );
  });

  it('is deterministic: the same inputs give the same assessment', () => {
    fc.assert(
      fc.property(ruleSet, features, (set, f) => {
        expect(evaluateRisk(set, f)).toEqual(evaluateRisk(set, f));
      }),
      { numRuns: 100 },
    );
  });
});
