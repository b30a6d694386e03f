import { loadRuleSet, type RuleSet } from '@amulet/risk';

/**
 * The issuer's default rules: velocity per card and account, amount against the account's
 * history, high-risk merchant categories (ISO 18245: 7995 betting, 6051 quasi-cash), and
 * provisioning attempts at ID&V (above three in a day: step-up; above ten: decline).
 */
export const defaultIssuerRules: RuleSet = loadRuleSet({
  version: 1,
  name: 'issuer-default',
  thresholds: { review: 50, decline: 100 },
  rules: [
    {
      id: 'card-velocity-minute',
      reason: 'VELOCITY_CARD',
      score: 100,
      when: { feature: 'velocity.card.1m', op: 'gt', value: 20 },
    },
    {
      id: 'card-velocity-hour',
      reason: 'VELOCITY_CARD',
      score: 50,
      when: { feature: 'velocity.card.1h', op: 'gt', value: 200 },
    },
    {
      id: 'amount-above-history',
      reason: 'AMOUNT_ABOVE_HISTORY',
      score: 30,
      when: {
        all: [
          { feature: 'accountHistoryCount', op: 'gte', value: 10 },
          { feature: 'amountMinor', op: 'gt', ref: { feature: 'accountMaxAmountMinor', times: 5 } },
        ],
      },
    },
    {
      id: 'merchant-category',
      reason: 'MERCHANT_CATEGORY',
      score: 30,
      when: { feature: 'merchantCategoryCode', op: 'in', values: ['7995', '6051'] },
    },
    {
      id: 'provisioning-many',
      reason: 'PROVISIONING_ATTEMPTS',
      score: 0,
      action: 'review',
      when: { feature: 'provisioningAttempts', op: 'gt', value: 3 },
    },
    {
      id: 'provisioning-too-many',
      reason: 'PROVISIONING_ATTEMPTS',
      score: 0,
      action: 'decline',
      when: { feature: 'provisioningAttempts', op: 'gt', value: 10 },
    },
  ],
});
