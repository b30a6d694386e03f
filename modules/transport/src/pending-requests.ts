import type { Clock, TimerHandle } from './clock.ts';
import { TransportError } from './transport-error.ts';
import type { TransportMetrics } from './transport-metrics.ts';

export interface PendingRequest<M> {
  readonly key: string;
  readonly message: Uint8Array;
  sent: boolean;
  readonly resolve: (response: M) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: TimerHandle;
}

export type SettleOutcome = 'matched' | 'late' | 'unmatched';

export interface PendingRequestsConfig {
  readonly clock: Clock;
  readonly metrics: TransportMetrics;
  readonly maxInFlight: number;
  readonly lateResponseWindowMs: number;
}

/** Bound on remembered timed-out keys, whatever the window: the oldest are forgotten first. */
const maxTimedOutKeys = 10_000;

/**
 * The requests awaiting responses, by matching key. A key is held from the request until its
 * response, its timeout, or its connection's loss. After a timeout the key stays reserved for
 * `lateResponseWindowMs`: a response bearing it is dropped as late, and a new request with it is
 * refused (unless marked a retransmission), so a late answer can never reach a different request.
 */
export class PendingRequests<M> {
  readonly #config: PendingRequestsConfig;
  readonly #entries = new Map<string, PendingRequest<M>>();
  /** Timed-out key -> time its reservation ends. Insertion order is expiry order. */
  readonly #timedOut = new Map<string, number>();

  constructor(config: PendingRequestsConfig) {
    this.#config = config;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Registers a request; throws ERR_DUPLICATE_KEY or ERR_TOO_MANY_IN_FLIGHT. */
  add(
    key: string,
    message: Uint8Array,
    timeoutMs: number,
    retransmission: boolean,
  ): [PendingRequest<M>, Promise<M>] {
    const { metrics, clock } = this.#config;
    this.#forgetExpired();
    if (this.#entries.has(key) || (this.#timedOut.has(key) && !retransmission)) {
      metrics.requestsRejected++;
      throw new TransportError('ERR_DUPLICATE_KEY', 'a request with this matching key is already in flight');
    }
    if (this.#entries.size >= this.#config.maxInFlight) {
      metrics.requestsRejected++;
      throw new TransportError(
        'ERR_TOO_MANY_IN_FLIGHT',
        `${this.#config.maxInFlight} requests already in flight`,
      );
    }
    this.#timedOut.delete(key);
    let entry!: PendingRequest<M>;
    const promise = new Promise<M>((resolve, reject) => {
      const timer = clock.setTimeout(() => this.#expire(key), timeoutMs);
      entry = { key, message, sent: false, resolve, reject, timer };
    });
    this.#entries.set(key, entry);
    return [entry, promise];
  }

  /** Hands a response to its request, if one is waiting. */
  settle(key: string, response: M): SettleOutcome {
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      this.#remove(entry);
      this.#config.metrics.responsesMatched++;
      entry.resolve(response);
      return 'matched';
    }
    this.#forgetExpired();
    if (this.#timedOut.delete(key)) {
      this.#config.metrics.lateResponses++;
      return 'late';
    }
    this.#config.metrics.unmatchedResponses++;
    return 'unmatched';
  }

  /** Withdraws one request (e.g. its write failed). */
  fail(entry: PendingRequest<M>, error: unknown): void {
    if (this.#entries.get(entry.key) !== entry) return;
    this.#remove(entry);
    entry.reject(error);
  }

  /** Requests held while disconnected, in the order they were made. */
  unsent(): PendingRequest<M>[] {
    return [...this.#entries.values()].filter((entry) => !entry.sent);
  }

  /** Rejects the requests already written (their connection is gone); `all` rejects the waiting ones too. */
  failSent(error: unknown, all = false): void {
    for (const entry of [...this.#entries.values()]) {
      if (entry.sent || all) this.fail(entry, error);
    }
  }

  #remove(entry: PendingRequest<M>): void {
    this.#entries.delete(entry.key);
    this.#config.clock.clearTimeout(entry.timer);
  }

  #expire(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#config.metrics.timeouts++;
    if (entry.sent) {
      this.#timedOut.delete(key);
      this.#timedOut.set(key, this.#config.clock.now() + this.#config.lateResponseWindowMs);
      if (this.#timedOut.size > maxTimedOutKeys) this.#timedOut.delete(this.#timedOut.keys().next().value!);
    }
    entry.reject(new TransportError('ERR_TIMEOUT', 'no response within the request timeout'));
  }

  #forgetExpired(): void {
    const now = this.#config.clock.now();
    for (const [key, until] of this.#timedOut) {
      if (until > now) break;
      this.#timedOut.delete(key);
    }
  }
}
