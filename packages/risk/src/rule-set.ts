import { type FeatureType, type FeatureValue, featureType } from './features.ts';
import { RiskError } from './risk-error.ts';

export type ComparisonOperator = 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'ne';

/** A condition over the features record, written as JSON. */
export type Condition =
  /** The feature compared with a constant. */
  | { readonly feature: string; readonly op: ComparisonOperator; readonly value: FeatureValue }
  /** A number feature compared with another number feature times a factor (amount against history). */
  | {
      readonly feature: string;
      readonly op: ComparisonOperator;
      readonly ref: { readonly feature: string; readonly times: number };
    }
  /** The feature is (or is not) one of a list of strings or numbers. */
  | { readonly feature: string; readonly op: 'in' | 'notIn'; readonly values: readonly (string | number)[] }
  /** The feature is (or is not) given with its catalog type. */
  | { readonly feature: string; readonly op: 'present' | 'absent' }
  | { readonly all: readonly Condition[] }
  | { readonly any: readonly Condition[] }
  | { readonly not: Condition };

export type RiskDecision = 'approve' | 'review' | 'decline';

export interface Rule {
  /** Lower-case letters, digits and '-', 1 to 64; unique in the set. */
  readonly id: string;
  /** Reason code given when the rule matches: upper-case letters, digits and '_', 1 to 40. */
  readonly reason: string;
  /** Added to the score when the rule matches: an integer from -1000 to 1000. */
  readonly score: number;
  readonly when: Condition;
  /** A matching rule with an action forces at least that decision, whatever the score. */
  readonly action?: 'review' | 'decline';
  readonly description?: string;
}

export interface RuleSet {
  /** The rule set format; 1 is the only one. */
  readonly version: 1;
  readonly name: string;
  /** Score at or above which the decision is review, and decline (review <= decline). */
  readonly thresholds: { readonly review: number; readonly decline: number };
  readonly rules: readonly Rule[];
}

/** Limits on what a rule set may hold. */
export const ruleSetLimits = {
  rules: 500,
  depth: 8,
  conditions: 10_000,
  listItems: 100,
  textLength: 200,
  scoreAbs: 1000,
  thresholdAbs: 1_000_000,
  timesAbs: 1_000_000,
} as const;

const comparisons: readonly string[] = ['gt', 'gte', 'lt', 'lte', 'eq', 'ne'];
const orderings: readonly string[] = ['gt', 'gte', 'lt', 'lte'];

class Reader {
  conditions = 0;
  fail(path: readonly string[], message: string): never {
    throw new RiskError(
      'ERR_RISK_RULES',
      `rule set ${path.length === 0 ? '' : `${path.join('.')} `}${message}`,
      {
        path,
      },
    );
  }
  object(value: unknown, path: readonly string[], allowed: readonly string[]): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      this.fail(path, 'must be an object');
    for (const key of Object.keys(value))
      if (!allowed.includes(key)) this.fail([...path, key], 'is not allowed');
    return value as Record<string, unknown>;
  }
  array(value: unknown, path: readonly string[], max: number, min = 0): unknown[] {
    if (!Array.isArray(value)) this.fail(path, 'must be an array');
    if (value.length > max || value.length < min) this.fail(path, `must hold ${min} to ${max} items`);
    return value;
  }
  text(value: unknown, path: readonly string[], pattern?: RegExp): string {
    if (typeof value !== 'string' || value.length === 0 || value.length > ruleSetLimits.textLength)
      this.fail(path, `must be a string of 1 to ${ruleSetLimits.textLength} characters`);
    if (pattern !== undefined && !pattern.test(value)) this.fail(path, `must match ${pattern.source}`);
    return value;
  }
  integer(value: unknown, path: readonly string[], abs: number): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || Math.abs(value) > abs)
      this.fail(path, `must be an integer from -${abs} to ${abs}`);
    return value;
  }
  finite(value: unknown, path: readonly string[], abs: number): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > abs)
      this.fail(path, `must be a finite number from -${abs} to ${abs}`);
    return Object.is(value, -0) ? 0 : value;
  }
  feature(value: unknown, path: readonly string[]): { name: string; type: FeatureType } {
    const name = this.text(value, path);
    const type = featureType(name);
    if (type === undefined) this.fail(path, 'names no known feature');
    return { name, type };
  }
  constant(value: unknown, type: FeatureType, path: readonly string[]): FeatureValue {
    if (type === 'number') return this.finite(value, path, Number.MAX_SAFE_INTEGER);
    if (type === 'boolean') {
      if (typeof value !== 'boolean') this.fail(path, 'must be a boolean, as its feature is');
      return value;
    }
    if (typeof value !== 'string' || value.length > ruleSetLimits.textLength)
      this.fail(
        path,
        `must be a string of at most ${ruleSetLimits.textLength} characters, as its feature is`,
      );
    return value;
  }

  condition(value: unknown, path: readonly string[], depth: number): Condition {
    if (depth > ruleSetLimits.depth) this.fail(path, `nests deeper than ${ruleSetLimits.depth}`);
    if (++this.conditions > ruleSetLimits.conditions)
      this.fail(path, `is beyond the limit of ${ruleSetLimits.conditions} conditions`);
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      this.fail(path, 'must be an object');
    if ('all' in value || 'any' in value) {
      const key = 'all' in value ? 'all' : 'any';
      const o = this.object(value, path, [key]);
      const list = this.array(o[key], [...path, key], ruleSetLimits.listItems, 1).map((c, i) =>
        this.condition(c, [...path, key, String(i)], depth + 1),
      );
      return key === 'all' ? { all: list } : { any: list };
    }
    if ('not' in value) {
      const o = this.object(value, path, ['not']);
      return { not: this.condition(o.not, [...path, 'not'], depth + 1) };
    }
    const head = this.object(value, path, ['feature', 'op', 'value', 'ref', 'values']);
    const { name, type } = this.feature(head.feature, [...path, 'feature']);
    const op = head.op;
    if (op === 'present' || op === 'absent') {
      this.object(value, path, ['feature', 'op']);
      return { feature: name, op };
    }
    if (op === 'in' || op === 'notIn') {
      const o = this.object(value, path, ['feature', 'op', 'values']);
      if (type === 'boolean') this.fail([...path, 'op'], 'cannot apply to a boolean feature');
      const values = this.array(o.values, [...path, 'values'], ruleSetLimits.listItems, 1).map(
        (v, i) => this.constant(v, type, [...path, 'values', String(i)]) as string | number,
      );
      return { feature: name, op, values };
    }
    if (typeof op !== 'string' || !comparisons.includes(op))
      this.fail(
        [...path, 'op'],
        `must be one of ${[...comparisons, 'in', 'notIn', 'present', 'absent'].join(', ')}`,
      );
    const comparison = op as ComparisonOperator;
    if (orderings.includes(comparison) && type !== 'number')
      this.fail([...path, 'op'], 'orders numbers only, and its feature is not a number');
    if ('ref' in head) {
      const o = this.object(value, path, ['feature', 'op', 'ref']);
      if (type !== 'number') this.fail([...path, 'ref'], 'compares numbers only');
      const ref = this.object(o.ref, [...path, 'ref'], ['feature', 'times']);
      const other = this.feature(ref.feature, [...path, 'ref', 'feature']);
      if (other.type !== 'number') this.fail([...path, 'ref', 'feature'], 'must be a number feature');
      const times = this.finite(ref.times, [...path, 'ref', 'times'], ruleSetLimits.timesAbs);
      return { feature: name, op: comparison, ref: { feature: other.name, times } };
    }
    const o = this.object(value, path, ['feature', 'op', 'value']);
    if (!('value' in o)) this.fail(path, 'needs a value or a ref');
    return { feature: name, op: comparison, value: this.constant(o.value, type, [...path, 'value']) };
  }

  rule(value: unknown, path: readonly string[]): Rule {
    const o = this.object(value, path, ['id', 'reason', 'score', 'when', 'action', 'description']);
    const rule: Rule = {
      id: this.text(o.id, [...path, 'id'], /^[a-z0-9][a-z0-9-]{0,63}$/),
      reason: this.text(o.reason, [...path, 'reason'], /^[A-Z0-9_]{1,40}$/),
      score: this.integer(o.score, [...path, 'score'], ruleSetLimits.scoreAbs),
      when: this.condition(o.when, [...path, 'when'], 1),
    };
    let withAction: Rule = rule;
    if (o.action === 'review' || o.action === 'decline') withAction = { ...rule, action: o.action };
    else if (o.action !== undefined) this.fail([...path, 'action'], 'must be review or decline');
    return o.description === undefined
      ? withAction
      : { ...withAction, description: this.text(o.description, [...path, 'description']) };
  }
}

/**
 * Validates a rule set given as parsed JSON and returns a clean copy (only the known properties).
 * Any input gives a rule set or a RiskError with the path of the first problem.
 */
export function loadRuleSet(value: unknown): RuleSet {
  const reader = new Reader();
  const o = reader.object(value, [], ['version', 'name', 'thresholds', 'rules']);
  if (o.version !== 1) reader.fail(['version'], 'must be 1');
  const name = reader.text(o.name, ['name']);
  const t = reader.object(o.thresholds, ['thresholds'], ['review', 'decline']);
  const review = reader.integer(t.review, ['thresholds', 'review'], ruleSetLimits.thresholdAbs);
  const decline = reader.integer(t.decline, ['thresholds', 'decline'], ruleSetLimits.thresholdAbs);
  if (review > decline) reader.fail(['thresholds'], 'review must not be above decline');
  const rules = reader
    .array(o.rules, ['rules'], ruleSetLimits.rules)
    .map((r, i) => reader.rule(r, ['rules', String(i)]));
  const ids = new Set<string>();
  rules.forEach((rule, i) => {
    if (ids.has(rule.id)) reader.fail(['rules', String(i), 'id'], 'repeats the id of an earlier rule');
    ids.add(rule.id);
  });
  return { version: 1, name, thresholds: { review, decline }, rules };
}

/** Parses and validates a rule set from JSON text. */
export function parseRuleSet(text: string): RuleSet {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new RiskError('ERR_RISK_RULES', 'rule set is not valid JSON', { path: [], cause });
  }
  return loadRuleSet(value);
}

/** The rule set as plain JSON data; `loadRuleSet(dumpRuleSet(r))` equals `r`. */
export function dumpRuleSet(ruleSet: RuleSet): unknown {
  return JSON.parse(JSON.stringify(ruleSet));
}
