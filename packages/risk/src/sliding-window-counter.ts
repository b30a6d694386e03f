import { RiskError } from './risk-error.ts';

export interface SlidingWindowCounterOptions {
  /** The longest window `count` may be asked for, in milliseconds; older events are forgotten. */
  readonly maxWindowMs: number;
  /** Keys remembered at once; recording a new key beyond it forgets the least recently recorded. Default 100 000. */
  readonly maxKeys?: number;
  /** Events remembered per key; beyond it the oldest are forgotten (counts saturate). Default 10 000. */
  readonly maxEventsPerKey?: number;
}

/**
 * Counts events per key over sliding windows, exactly: `count(key, atMs, windowMs)` is the number
 * of events recorded at times in (atMs - windowMs, atMs]. Time is always passed in (no clock), so
 * the counter is pure state the caller holds, and replays from the same inputs. Memory is bounded
 * by maxKeys x maxEventsPerKey.
 */
export class SlidingWindowCounter {
  readonly #maxWindowMs: number;
  readonly #maxKeys: number;
  readonly #maxEvents: number;
  /** Per key, event times in ascending order. Map order is the recency of recording. */
  readonly #events = new Map<string, number[]>();

  constructor(options: SlidingWindowCounterOptions) {
    this.#maxWindowMs = positive(options.maxWindowMs, 'maxWindowMs');
    this.#maxKeys = positive(options.maxKeys ?? 100_000, 'maxKeys');
    this.#maxEvents = positive(options.maxEventsPerKey ?? 10_000, 'maxEventsPerKey');
  }

  /** Keys currently remembered. */
  get size(): number {
    return this.#events.size;
  }

  /** Records one event for `key` at `atMs` (times may arrive out of order). */
  record(key: string, atMs: number): void {
    time(atMs, 'atMs');
    let list = this.#events.get(key);
    if (list === undefined) {
      list = [];
      if (this.#events.size >= this.#maxKeys) {
        const oldest = this.#events.keys().next().value;
        if (oldest !== undefined) this.#events.delete(oldest);
      }
    } else {
      this.#events.delete(key);
    }
    this.#events.set(key, list);
    let at = list.length;
    while (at > 0 && (list[at - 1] as number) > atMs) at--;
    list.splice(at, 0, atMs);
    // Forget what no window can reach any more, then what is beyond the per-key bound.
    const horizon = (list[list.length - 1] as number) - this.#maxWindowMs;
    let drop = 0;
    while (drop < list.length && (list[drop] as number) <= horizon) drop++;
    drop = Math.max(drop, list.length - this.#maxEvents);
    if (drop > 0) list.splice(0, drop);
  }

  /** Events for `key` in (atMs - windowMs, atMs]; windowMs at most maxWindowMs. */
  count(key: string, atMs: number, windowMs: number): number {
    time(atMs, 'atMs');
    if (!Number.isFinite(windowMs) || windowMs <= 0 || windowMs > this.#maxWindowMs)
      throw new RiskError('ERR_RISK_VELOCITY', `windowMs must be above 0 and at most maxWindowMs`);
    const list = this.#events.get(key);
    if (list === undefined) return 0;
    let n = 0;
    for (let i = list.length - 1; i >= 0; i--) {
      const t = list[i] as number;
      if (t > atMs) continue;
      if (t <= atMs - windowMs) break;
      n++;
    }
    return n;
  }
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new RiskError('ERR_RISK_VELOCITY', `${name} must be a positive integer`);
  return value;
}

function time(value: number, name: string): void {
  if (!Number.isFinite(value)) throw new RiskError('ERR_RISK_VELOCITY', `${name} must be a finite number`);
}
