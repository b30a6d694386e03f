import { type Clock, systemClock } from './clock.ts';
import type { TransportClient } from './transport.ts';
import { isTransportError, TransportError } from './transport-error.ts';

export interface SendUntilAcknowledgedOptions<M> {
  /** The repeat form of the message for attempts after the first (e.g. 0420 -> 0421). */
  readonly repeat: (message: M) => M;
  /** How long each attempt waits for its response before the next; also the pause after a failed connection. */
  readonly intervalMs: number;
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** Times the pause between attempts when the client is disconnected; default the system clock. */
  readonly clock?: Clock;
  /**
   * The message went out before (an earlier round that gave up, or an earlier run): every attempt,
   * the first included, is its repeat form sent as a retransmission, which may take the key still
   * reserved for the late answer to an earlier copy. Default false.
   */
  readonly alreadySent?: boolean;
}

export interface Acknowledged<M> {
  readonly response: M;
  /** Which attempt was answered (1 is the original). */
  readonly attempts: number;
}

/** Failures worth another attempt: nothing came back, or the connection was not there. */
const retryable = new Set(['ERR_TIMEOUT', 'ERR_CONNECTION_LOST', 'ERR_NOT_CONNECTED']);
const waitBeforeRetry = new Set(['ERR_CONNECTION_LOST', 'ERR_NOT_CONNECTED']);

/**
 * Delivers a message that must arrive (an advice such as a 0420 reversal): sends it, and while no
 * response comes back, sends its repeat form, up to `maxAttempts` times. Repeats go out as
 * retransmissions, so a late response to an earlier copy acknowledges them too. The receiver sees
 * the same advice several times and must deduplicate (ISO 8583 repeats carry the original STAN).
 * Other errors (encoding, duplicate key, closed client) are thrown at once.
 */
export async function sendUntilAcknowledged<M>(
  client: TransportClient<M>,
  message: M,
  options: SendUntilAcknowledgedOptions<M>,
): Promise<Acknowledged<M>> {
  if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1 || !(options.intervalMs > 0)) {
    throw new TransportError('ERR_OPTIONS', 'maxAttempts must be a positive integer and intervalMs positive');
  }
  const clock = options.clock ?? systemClock;
  let lastError: unknown;
  const resent = options.alreadySent === true;
  let current = resent ? options.repeat(message) : message;
  for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
    if (attempt > 1) current = options.repeat(message);
    try {
      const response = await client.request(current, {
        timeoutMs: options.intervalMs,
        retransmission: resent || attempt > 1,
      });
      return { response, attempts: attempt };
    } catch (error) {
      if (!isTransportError(error) || !retryable.has(error.code)) throw error;
      lastError = error;
      if (waitBeforeRetry.has(error.code) && attempt < options.maxAttempts) {
        await new Promise<void>((resolve) => clock.setTimeout(resolve, options.intervalMs));
      }
    }
  }
  throw new TransportError('ERR_NOT_ACKNOWLEDGED', `no response after ${options.maxAttempts} attempts`, {
    cause: lastError,
  });
}

export interface DeliverAdviceOptions<M> extends SendUntilAcknowledgedOptions<M> {
  /** Asked before each round: true ends the delivery without an answer (its sender is closing). */
  readonly stopped: () => boolean;
  /** Called before each round; `repeatsOnly` when the round sends the repeat form only. */
  readonly beforeRound?: (repeatsOnly: boolean) => void;
}

/** Failures after which another round would fare no better. */
const endsDelivery = new Set(['ERR_CLOSED', 'ERR_NOT_ACKNOWLEDGED', 'ERR_OPTIONS']);

/**
 * What a sender of advices runs for each one it must deliver: rounds of `sendUntilAcknowledged`.
 * A round that fails for a reason another round may not share (the key still reserved for a late
 * answer, say) is followed, `intervalMs` later, by another sending repeats only. Resolves with the
 * answer, or with undefined when the delivery ends without one: a round used every attempt
 * (ERR_NOT_ACKNOWLEDGED; the sender keeps the advice for a later delivery if it must outlive the
 * process), the client was closed, `stopped()` became true, the options were refused
 * (ERR_OPTIONS), or an error not of the transport. Never rejects.
 */
export async function deliverAdvice<M>(
  client: TransportClient<M>,
  message: M,
  options: DeliverAdviceOptions<M>,
): Promise<Acknowledged<M> | undefined> {
  const clock = options.clock ?? systemClock;
  let repeatsOnly = options.alreadySent === true;
  while (!options.stopped()) {
    try {
      options.beforeRound?.(repeatsOnly);
      return await sendUntilAcknowledged(client, message, { ...options, alreadySent: repeatsOnly });
    } catch (error) {
      if (!isTransportError(error) || endsDelivery.has(error.code)) return undefined;
      repeatsOnly = true;
      await new Promise<void>((resolve) => clock.setTimeout(resolve, options.intervalMs));
    }
  }
  return undefined;
}
