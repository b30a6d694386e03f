import { TransportError } from './transport-error.ts';

export interface BackoffOptions {
  /** Delay before the first reconnection attempt; default 100 ms. */
  readonly initialDelayMs?: number;
  /** Ceiling on the delay; default 10 000 ms. */
  readonly maxDelayMs?: number;
  /** Growth per attempt; default 2. */
  readonly factor?: number;
  /** Fraction of the delay that is randomised away, 0 to 1; default 0.5. */
  readonly jitter?: number;
}

/**
 * Exponential backoff with jitter: attempt n (from 1) waits
 * min(maxDelayMs, initialDelayMs * factor^(n-1)) * (1 - jitter * random()),
 * so a crowd of clients cut off together does not come back together.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const initial = options.initialDelayMs ?? 100;
  const max = options.maxDelayMs ?? 10_000;
  const factor = options.factor ?? 2;
  const jitter = options.jitter ?? 0.5;
  if (!(initial >= 0 && max >= initial && factor >= 1 && jitter >= 0 && jitter <= 1 && attempt >= 1)) {
    throw new TransportError(
      'ERR_OPTIONS',
      'backoff needs 0 <= initialDelayMs <= maxDelayMs, factor >= 1, 0 <= jitter <= 1',
    );
  }
  const base = Math.min(max, initial * factor ** (attempt - 1));
  return Math.round(base * (1 - jitter * random()));
}
