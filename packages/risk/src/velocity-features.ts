import { parseWindow, type VelocitySubject, velocityFeatureName } from './features.ts';
import { RiskError } from './risk-error.ts';
import type { SlidingWindowCounter } from './sliding-window-counter.ts';

/**
 * The velocity features of one subject (`velocity.<subject>.<window>`) read from a counter, for
 * windows written like `1m`, `1h`, `24h`: e.g. `{ 'velocity.card.1h': 3 }`.
 */
export function velocityFeatures(
  counter: SlidingWindowCounter,
  subject: VelocitySubject,
  key: string,
  atMs: number,
  windows: readonly string[],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const window of windows) {
    const ms = parseWindow(window);
    if (ms === undefined)
      throw new RiskError('ERR_RISK_VELOCITY', 'a window is digits and one of s, m, h, d');
    out[velocityFeatureName(subject, window)] = counter.count(key, atMs, ms);
  }
  return out;
}
