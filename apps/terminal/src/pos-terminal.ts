import {
  authorizationKey,
  describeResponseCode,
  Field,
  interchangeSpec,
  isApproval,
  Mti,
  originalDataElements,
  ResponseCode,
} from '@amulet/contracts';
import { createMessage, type FieldValue, type Iso8583Message } from '@amulet/iso8583';
import type { SeTransport } from '@amulet/secure-element';
import {
  type Clock,
  deliverAdvice,
  isTransportError,
  systemClock,
  type TransportClient,
} from '@amulet/transport';
import { type CardRead, type Exchange, readCard } from './kernel.ts';
import type { KernelConfig } from './kernel-config.ts';
import { authorizationRequest, type TerminalIdentity } from './online-request.ts';
import { type Outcome, outcome } from './outcome.ts';
import type { TerminalJournal } from './terminal-journal.ts';

export interface PosTerminalOptions {
  readonly identity: TerminalIdentity;
  readonly kernel: KernelConfig;
  /** The connection to the acquirer. */
  readonly acquirer: TransportClient<Iso8583Message>;
  /** Wall-clock time for fields 7, 12, 13 and 9A. */
  readonly now: () => Date;
  /** Random bytes, for the unpredictable number (9F37). */
  readonly random: (n: number) => Uint8Array;
  /** Times the reversal repeats; default the system clock. */
  readonly clock?: Clock;
  /** The first STAN (field 11); default 1. */
  readonly firstStan?: number;
  /** How long the acquirer has to answer the 0100; default 10 000 ms. */
  readonly responseTimeoutMs?: number;
  /** The 0420 after a timeout, and its 0421 repeats: the wait for each 0430, attempts before giving up (default 10 000). */
  readonly reversal?: { readonly intervalMs?: number; readonly maxAttempts?: number };
  /**
   * Where the STAN and unacknowledged reversals outlive the process (`fileTerminalJournal`);
   * without it the STAN starts at `firstStan` and a reversal given up on is forgotten.
   */
  readonly journal?: TerminalJournal;
}

/** One tap from the cashier's point of view: the outcome, and what went to and from the acquirer. */
export interface TapReport {
  readonly outcome: Outcome;
  readonly request?: Iso8583Message;
  readonly response?: Iso8583Message;
  readonly exchanges: readonly Exchange[];
}

/**
 * A POS terminal: runs the contactless kernel against a card (any SeTransport), sends the 0100 to
 * the acquirer, and shows the outcome. When the acquirer does not answer, the outcome is a
 * decline and the terminal reverses the authorization with 0420 (0421 repeats) until the
 * acquirer acknowledges it, so an approval the terminal never saw cannot stand.
 */
export class PosTerminal {
  readonly #options: PosTerminalOptions;
  readonly #clock: Clock;
  readonly #reversals = new Set<Promise<void>>();
  /** Keys of the journal's reversals being delivered now. */
  readonly #inFlight = new Set<string>();
  #stan: number;
  #closed = false;

  constructor(options: PosTerminalOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#stan = (options.firstStan ?? 1) - 1;
  }

  #nextStan(): string {
    const journal = this.#options.journal;
    if (journal !== undefined) return String(journal.nextStan()).padStart(6, '0');
    this.#stan = (this.#stan % 999_999) + 1;
    return String(this.#stan).padStart(6, '0');
  }

  /**
   * Sends again every reversal in the journal that the acquirer has not acknowledged and no
   * delivery is working on (one a previous run gave up on, or stopped before it was answered), as
   * repeats only (0421). Resolves with how many it started.
   */
  resumeReversals(): number {
    let started = 0;
    for (const { key, advice } of this.#options.journal?.pending() ?? []) {
      if (this.#inFlight.has(key)) continue;
      this.#follow(key, this.#deliver(advice, key, true));
      started++;
    }
    return started;
  }

  /** Reversals still waiting for the acquirer's 0430. */
  get pendingReversals(): number {
    return this.#reversals.size;
  }

  async settled(): Promise<void> {
    while (this.#reversals.size > 0) await Promise.all([...this.#reversals]);
  }

  close(): void {
    this.#closed = true;
  }

  async tap(card: SeTransport, amount: number): Promise<TapReport> {
    const now = this.#options.now();
    const date = `${String(now.getUTCFullYear()).slice(-2)}${String(now.getUTCMonth() + 1).padStart(2, '0')}${String(now.getUTCDate()).padStart(2, '0')}`;
    const read: CardRead = await readCard(
      card,
      { amount, unpredictableNumber: this.#options.random(4), date },
      this.#options.kernel,
    );
    if (read.kind === 'outcome') return { outcome: read.outcome, exchanges: read.exchanges };
    const request = authorizationRequest(
      read.card,
      amount,
      this.#nextStan(),
      now,
      this.#options.identity,
      this.#options.kernel.currency,
    );
    let response: Iso8583Message;
    try {
      response = await this.#options.acquirer.request(request, {
        timeoutMs: this.#options.responseTimeoutMs ?? 10_000,
      });
    } catch (error) {
      if (!isTransportError(error)) throw error;
      // Not sent at all: nothing to undo. Sent and unanswered: it may have been approved, so reverse it.
      if (error.code !== 'ERR_NOT_CONNECTED' && error.code !== 'ERR_CLOSED') this.#reverse(request);
      return {
        outcome: outcome('declined', 'no-response', 'Declined: no answer, try again'),
        request,
        exchanges: read.exchanges,
      };
    }
    return { outcome: answerOutcome(response), request, response, exchanges: read.exchanges };
  }

  #reverse(original: Iso8583Message): void {
    const advice = terminalReversalOf(original);
    const key = authorizationKey(original);
    // Written down before it is first sent: it outlives this process until acknowledged.
    this.#options.journal?.keep(key, advice);
    this.#follow(key, this.#deliver(advice, key, false));
  }

  #follow(key: string, delivery: Promise<void>): void {
    this.#reversals.add(delivery);
    this.#inFlight.add(key);
    void delivery.finally(() => {
      this.#reversals.delete(delivery);
      this.#inFlight.delete(key);
    });
  }

  async #deliver(advice: Iso8583Message, key: string, alreadySent: boolean): Promise<void> {
    const intervalMs = this.#options.reversal?.intervalMs ?? 5_000;
    const maxAttempts = this.#options.reversal?.maxAttempts ?? 10_000;
    const repeat = (m: Iso8583Message) =>
      createMessage(interchangeSpec, Mti.reversalAdviceRepeat, new Map(m.fields));
    // Sent before (a round that failed, or an earlier run): repeats only, as retransmissions
    // (docs/transport.md, alreadySent).
    const acknowledged = await deliverAdvice(this.#options.acquirer, advice, {
      repeat,
      intervalMs,
      maxAttempts,
      clock: this.#clock,
      alreadySent,
      stopped: () => this.#closed,
    });
    if (acknowledged === undefined) return;
    try {
      this.#options.journal?.forget(key);
    } catch {
      // Not written: the advice is sent again on the next run, and the acquirer answers a repeat
      // of a reversal it already applied without applying it twice.
    }
  }
}

/**
 * The terminal's reversal advice (0420) of an 0100 it got no answer to: the original's 2, 3, 4, 7,
 * 11, 12, 13, 37, 41, 42, 49, field 39 '91', and field 90 naming the original (ISO 8583:1987; the
 * acquirer fills in its own institution).
 */
export function terminalReversalOf(original: Iso8583Message): Iso8583Message {
  const text = (field: number): string => {
    const value = original.fields.get(field);
    return typeof value === 'string' ? value : '';
  };
  const fields = new Map<number, FieldValue>();
  for (const field of [2, 3, 4, 7, 11, 12, 13, 37, 41, 42, 49]) {
    const value = original.fields.get(field);
    if (value !== undefined) fields.set(field, value);
  }
  fields.set(Field.responseCode, ResponseCode.issuerUnavailable);
  fields.set(
    Field.originalDataElements,
    originalDataElements({
      mti: original.mti,
      stan: text(Field.stan),
      transmissionDateTime: text(Field.transmissionDateTime),
      acquiringInstitutionId: '',
    }),
  );
  return createMessage(interchangeSpec, Mti.reversalAdvice, fields);
}

/** The cashier's outcome for the acquirer's answer (field 39, contracts.describeResponseCode). */
export function answerOutcome(response: Iso8583Message): Outcome {
  const code = response.fields.get(Field.responseCode);
  const responseCode = typeof code === 'string' ? code : '';
  if (isApproval(responseCode)) {
    const id = response.fields.get(Field.authorizationIdResponse);
    return outcome('approved', 'approved', 'Approved', {
      responseCode,
      ...(typeof id === 'string' ? { authorizationId: id } : {}),
    });
  }
  if (responseCode === ResponseCode.additionalAuthenticationRequired)
    return outcome('see-phone', 'cvm-required', 'See phone: verify on your device, then tap again', {
      responseCode,
    });
  return outcome('declined', 'issuer-declined', `Declined: ${describeResponseCode(responseCode)}`, {
    responseCode,
  });
}
