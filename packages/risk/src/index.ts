// The risk engine: rules as data over a features record, and a velocity counter. Pure.
export { evaluateRisk, type RiskAssessment } from './evaluate-risk.ts';
export {
  type CatalogFeature,
  type Features,
  type FeatureType,
  type FeatureValue,
  featureCatalog,
  featureType,
  parseWindow,
  type VelocitySubject,
  velocityFeatureName,
  velocitySubjects,
} from './features.ts';
export { RiskError, type RiskErrorCode } from './risk-error.ts';
export {
  type ComparisonOperator,
  type Condition,
  dumpRuleSet,
  loadRuleSet,
  parseRuleSet,
  type RiskDecision,
  type Rule,
  type RuleSet,
  ruleSetLimits,
} from './rule-set.ts';
export { SlidingWindowCounter, type SlidingWindowCounterOptions } from './sliding-window-counter.ts';
export { velocityFeatures } from './velocity-features.ts';
