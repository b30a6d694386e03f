import fc from 'fast-check';
import {
  type Condition,
  type Features,
  featureCatalog,
  type Rule,
  type RuleSet,
  velocityFeatureName,
  velocitySubjects,
} from '../src/index.ts';

const numberFeatures = [
  ...Object.entries(featureCatalog)
    .filter(([, v]) => v.type === 'number')
    .map(([k]) => k),
  ...velocitySubjects.flatMap((s) => ['1m', '1h', '24h'].map((w) => velocityFeatureName(s, w))),
];
const stringFeatures = Object.entries(featureCatalog)
  .filter(([, v]) => v.type === 'string')
  .map(([k]) => k);
const booleanFeatures = Object.entries(featureCatalog)
  .filter(([, v]) => v.type === 'boolean')
  .map(([k]) => k);

const finite = fc
  .double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 })
  .map((n) => (Object.is(n, -0) ? 0 : n));
const ordering = fc.constantFrom('gt', 'gte', 'lt', 'lte', 'eq', 'ne' as const);
const equality = fc.constantFrom('eq', 'ne' as const);

const leaf: fc.Arbitrary<Condition> = fc.oneof(
  fc.record({ feature: fc.constantFrom(...numberFeatures), op: ordering, value: finite }),
  fc.record({
    feature: fc.constantFrom(...numberFeatures),
    op: ordering,
    ref: fc.record({
      feature: fc.constantFrom(...numberFeatures),
      times: fc.double({ noNaN: true, min: -100, max: 100 }).map((n) => (Object.is(n, -0) ? 0 : n)),
    }),
  }),
  fc.record({
    feature: fc.constantFrom(...stringFeatures),
    op: equality,
    value: fc.string({ maxLength: 8 }),
  }),
  fc.record({ feature: fc.constantFrom(...booleanFeatures), op: equality, value: fc.boolean() }),
  fc.record({
    feature: fc.constantFrom(...stringFeatures),
    op: fc.constantFrom('in', 'notIn' as const),
    values: fc.array(fc.string({ maxLength: 6 }), { minLength: 1, maxLength: 5 }),
  }),
  fc.record({
    feature: fc.constantFrom(...numberFeatures, ...stringFeatures, ...booleanFeatures),
    op: fc.constantFrom('present', 'absent' as const),
  }),
);

export const condition: fc.Arbitrary<Condition> = fc.letrec<{ c: Condition }>((tie) => ({
  c: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({ all: fc.array(tie('c'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ any: fc.array(tie('c'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ not: tie('c') }),
  ),
})).c;

/** Conditions nest at most 8 deep; deeper generated ones are cut back to a leaf. */
function depth(c: Condition): number {
  if ('all' in c) return 1 + Math.max(...c.all.map(depth));
  if ('any' in c) return 1 + Math.max(...c.any.map(depth));
  if ('not' in c) return 1 + depth(c.not);
  return 1;
}

export const rule: fc.Arbitrary<Omit<Rule, 'id'>> = fc
  .record(
    {
      reason: fc.stringMatching(/^[A-Z][A-Z0-9_]{0,10}$/),
      score: fc.integer({ min: -1000, max: 1000 }),
      when: condition.filter((c) => depth(c) <= 8),
      action: fc.constantFrom('review', 'decline' as const),
      description: fc.string({ minLength: 1, maxLength: 20 }),
    },
    { requiredKeys: ['reason', 'score', 'when'] },
  )
  .map((r) => r as Omit<Rule, 'id'>);

export const ruleSet: fc.Arbitrary<RuleSet> = fc
  .record({
    name: fc.string({ minLength: 1, maxLength: 20 }),
    review: fc.integer({ min: -2000, max: 2000 }),
    span: fc.integer({ min: 0, max: 2000 }),
    rules: fc.array(rule, { maxLength: 8 }),
  })
  .map(({ name, review, span, rules }) => ({
    version: 1 as const,
    name,
    thresholds: { review, decline: review + span },
    rules: rules.map((r, i) => ({ id: `rule-${i}`, ...r })),
  }));

const anyValue = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 6 }),
  fc.boolean(),
  fc.constant(undefined),
  fc.constant(null),
  fc.constant(Number.NaN),
  fc.constant(Number.POSITIVE_INFINITY),
  fc.array(fc.integer(), { maxLength: 2 }),
);

/** Any record: catalog names and unknown ones, values of any type (wrong ones included). */
export const features: fc.Arbitrary<Features> = fc
  .dictionary(
    fc.constantFrom(
      ...numberFeatures,
      ...stringFeatures,
      ...booleanFeatures,
      'unknown',
      '__proto__',
      'toString',
    ),
    anyValue,
    {
      maxKeys: 12,
    },
  )
  .map((f) => f as unknown as Features);
