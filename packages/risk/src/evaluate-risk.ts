import { type Features, type FeatureValue, featureType } from './features.ts';
import type { ComparisonOperator, Condition, RiskDecision, RuleSet } from './rule-set.ts';

/** What a rule set says about one event. */
export interface RiskAssessment {
  readonly decision: RiskDecision;
  /** Sum of the scores of the rules that matched. */
  readonly score: number;
  /** Reason codes of the matched rules, in rule order, each once. */
  readonly reasons: readonly string[];
  /** Ids of the matched rules, in rule order. */
  readonly matched: readonly string[];
}

/** The feature's value when it is given with its catalog type; otherwise undefined. */
function read(features: Features, name: string): FeatureValue | undefined {
  if (!Object.hasOwn(features, name)) return undefined;
  const value = features[name];
  const type = featureType(name);
  if (type === undefined || typeof value !== type) return undefined;
  if (typeof value === 'number' && !Number.isFinite(value)) return undefined;
  return value;
}

function compare(op: ComparisonOperator, left: FeatureValue, right: FeatureValue): boolean {
  if (typeof left !== typeof right) return false;
  switch (op) {
    case 'eq':
      return left === right;
    case 'ne':
      return left !== right;
    case 'gt':
      return left > right;
    case 'gte':
      return left >= right;
    case 'lt':
      return left < right;
    case 'lte':
      return left <= right;
  }
}

function holds(condition: Condition, features: Features): boolean {
  if ('all' in condition) return condition.all.every((c) => holds(c, features));
  if ('any' in condition) return condition.any.some((c) => holds(c, features));
  if ('not' in condition) return !holds(condition.not, features);
  const value = read(features, condition.feature);
  switch (condition.op) {
    case 'present':
      return value !== undefined;
    case 'absent':
      return value === undefined;
    case 'in':
    case 'notIn': {
      if (value === undefined || typeof value === 'boolean') return false;
      const found = condition.values.includes(value);
      return condition.op === 'in' ? found : !found;
    }
  }
  if (value === undefined) return false;
  if ('ref' in condition) {
    const other = read(features, condition.ref.feature);
    if (typeof value !== 'number' || typeof other !== 'number') return false;
    const bound = other * condition.ref.times;
    return Number.isFinite(bound) && compare(condition.op, value, bound);
  }
  return compare(condition.op, value, condition.value);
}

const rank: Record<RiskDecision, number> = { approve: 0, review: 1, decline: 2 };

/**
 * Runs every rule of a validated set over the features. Rules are checked in order; the score is
 * the sum of the matched rules' scores; the decision is the stronger of what the score reaches
 * (thresholds) and the strongest action of a matched rule. Never throws on any features record.
 */
export function evaluateRisk(ruleSet: RuleSet, features: Features): RiskAssessment {
  let score = 0;
  let forced: RiskDecision = 'approve';
  const reasons: string[] = [];
  const matched: string[] = [];
  for (const rule of ruleSet.rules) {
    if (!holds(rule.when, features)) continue;
    score += rule.score;
    matched.push(rule.id);
    if (!reasons.includes(rule.reason)) reasons.push(rule.reason);
    if (rule.action !== undefined && rank[rule.action] > rank[forced]) forced = rule.action;
  }
  const byScore: RiskDecision =
    score >= ruleSet.thresholds.decline
      ? 'decline'
      : score >= ruleSet.thresholds.review
        ? 'review'
        : 'approve';
  const decision = rank[byScore] >= rank[forced] ? byScore : forced;
  return { decision, score, reasons, matched };
}
