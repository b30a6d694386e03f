import { AmuletError } from '@amulet/bytes';

/**
 * Errors of the root of trust service. Each code maps to one HTTP status in `PROBLEM_TYPES`
 * (problem-details.ts) and is listed in docs/root-of-trust.md.
 */
export class RootOfTrustError extends AmuletError {}
