/** A feature's value: what the caller measured about one authorization or provisioning. */
export type FeatureValue = number | string | boolean;

/** The features of one event. A missing feature makes every comparison on it false. */
export type Features = Readonly<Record<string, FeatureValue | undefined>>;

export type FeatureType = 'number' | 'string' | 'boolean';

/**
 * The features a rule may name, with their types. Velocity features are named
 * `velocity.<subject>.<window>` (see `velocityFeatureName`), e.g. `velocity.token.1h`.
 */
export const featureCatalog = {
  amountMinor: { type: 'number', description: 'transaction amount, in minor units of its currency' },
  currency: { type: 'string', description: 'ISO 4217 numeric currency code of the amount' },
  accountAverageAmountMinor: {
    type: 'number',
    description: "average approved amount on the account's history",
  },
  accountMaxAmountMinor: { type: 'number', description: "largest approved amount on the account's history" },
  accountHistoryCount: { type: 'number', description: 'approved authorizations on the account so far' },
  merchantCategoryCode: { type: 'string', description: 'ISO 18245 merchant category code (field 18)' },
  posEntryMode: { type: 'string', description: 'ISO 8583 field 22' },
  atcJump: { type: 'number', description: "the token's ATC minus its high-water mark" },
  cvmLimitMinor: { type: 'number', description: 'amount above which the wearer must be verified (CDCVM)' },
  cdcvmPerformed: { type: 'boolean', description: 'the wearer was verified on the device (CDCVM)' },
  deviceReportedLost: { type: 'boolean', description: 'the device the token is bound to was reported lost' },
  provisioningAttempts: {
    type: 'number',
    description: 'provisioning attempts for this card in the last day',
  },
  tokenRequestorId: { type: 'string', description: 'EMVCo token requestor id (11 digits)' },
} as const satisfies Record<string, { type: FeatureType; description: string }>;

export type CatalogFeature = keyof typeof featureCatalog;

/** The subjects a velocity is counted for. */
export const velocitySubjects = ['token', 'device', 'card', 'account', 'merchant'] as const;
export type VelocitySubject = (typeof velocitySubjects)[number];

const velocityPattern = /^velocity\.(token|device|card|account|merchant)\.([1-9][0-9]{0,5})(s|m|h|d)$/;

const unitMs = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `velocityFeatureName('token', '1h')` is `velocity.token.1h`. */
export function velocityFeatureName(subject: VelocitySubject, window: string): string {
  return `velocity.${subject}.${window}`;
}

/** A window written as digits and a unit (`30s`, `5m`, `1h`, `7d`) in milliseconds, or undefined. */
export function parseWindow(window: string): number | undefined {
  const match = /^([1-9][0-9]{0,5})(s|m|h|d)$/.exec(window);
  if (match === null) return undefined;
  return Number(match[1]) * unitMs[match[2] as keyof typeof unitMs];
}

/** The type of a feature name, or undefined when no rule may name it. */
export function featureType(name: string): FeatureType | undefined {
  if (Object.hasOwn(featureCatalog, name)) return featureCatalog[name as CatalogFeature].type;
  return velocityPattern.test(name) ? 'number' : undefined;
}
