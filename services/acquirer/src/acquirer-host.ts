import { fromHex, toHex } from '@amulet/bytes';
import {
  authorizationKey,
  Field,
  institutionId,
  interchangeSpec,
  isApproval,
  Mti,
  originalDataElements,
  ResponseCode,
  responseTo,
  text,
  transactionKey,
} from '@amulet/contracts';
import { createMessage, type FieldValue, type Iso8583Message } from '@amulet/iso8583';
import { decodeTlv, encodeTlv, type TlvNode } from '@amulet/tlv';
import {
  type Clock,
  deliverAdvice,
  isTransportError,
  systemClock,
  type TransportClient,
} from '@amulet/transport';
import type {
  AcquirerStore,
  AuthorizationRecord,
  Capture,
  Merchant,
  TerminalRecord,
} from './acquirer-store.ts';
import { type AuthorizationState, finalStates } from './schema.ts';

export interface AcquirerHostOptions {
  readonly store: AcquirerStore;
  /** The connection to the network switch. */
  readonly network: TransportClient<Iso8583Message>;
  /** Field 32, this acquirer's institution id (up to 11 digits). */
  readonly acquiringInstitutionId: string;
  readonly clock?: Clock;
  /** How long the network has to answer an 0100 before it is reversed; default 5000 ms. */
  readonly networkTimeoutMs?: number;
  /** Reversal delivery: the wait for each 0430, and the attempts before giving up until the next start (default 10 000). */
  readonly reversal?: { readonly intervalMs?: number; readonly maxAttempts?: number };
}

/** Fields the answer to a terminal echoes: the terminal's own, never the acquirer's field 32. */
const terminalEcho = [2, 3, 4, 7, 11, 12, 13, 37, 41, 42, 49];
/** Text fields kept with each authorization to build its reversal, even after a restart. */
const keptFields = [2, 3, 4, 7, 11, 12, 13, 14, 22, 23, 32, 37, 41, 42, 49];

/**
 * The acquirer host (DESIGN.md flow 5): takes terminals' 0100s, checks the terminal and merchant,
 * stamps field 32 (and 18, 43 from the registry), records the authorization as pending, forwards
 * it to the network and records the answer before the terminal sees it. An authorization whose
 * answer does not come in time (or that the terminal reverses) is reversed with 0420, repeated
 * as 0421 until the network acknowledges with 0430; the queue is the table itself, so a restart
 * resumes it, and a pending authorization found at start is reversed (its fate is unknown).
 */
export class AcquirerHost {
  readonly #options: AcquirerHostOptions;
  readonly #clock: Clock;
  readonly #acquirerId: string;
  readonly #merchants = new Map<string, Merchant>();
  readonly #terminals = new Map<string, TerminalRecord>();
  readonly #inFlight = new Map<string, Promise<Iso8583Message>>();
  readonly #reversals = new Map<string, Promise<void>>();
  #closed = false;

  private constructor(options: AcquirerHostOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    if (!/^[0-9]{1,11}$/.test(options.acquiringInstitutionId))
      throw new RangeError('the acquiring institution id must be 1 to 11 digits');
    this.#acquirerId = options.acquiringInstitutionId;
  }

  /** Loads the registry and resumes every reversal the last run left undelivered. */
  static async start(options: AcquirerHostOptions): Promise<AcquirerHost> {
    const host = new AcquirerHost(options);
    for (const merchant of await options.store.merchants())
      host.#merchants.set(merchant.merchantId, merchant);
    for (const terminal of await options.store.terminals())
      host.#terminals.set(terminal.terminalId, terminal);
    for (const record of await options.store.inState(['pending', 'reversal-pending'])) {
      if (record.state === 'pending')
        await options.store.transition(record.key, ['pending'], 'reversal-pending');
      host.#startReversal(record.key);
    }
    return host;
  }

  async addMerchant(merchant: Merchant): Promise<void> {
    if (!/^[0-9]{4}$/.test(merchant.mcc)) throw new RangeError('an MCC has 4 digits');
    await this.#options.store.addMerchant(merchant);
    this.#merchants.set(merchant.merchantId, merchant);
  }

  async addTerminal(terminal: TerminalRecord): Promise<void> {
    if (!this.#merchants.has(terminal.merchantId)) throw new RangeError('the merchant is not registered');
    await this.#options.store.addTerminal(terminal);
    this.#terminals.set(terminal.terminalId, terminal);
  }

  /**
   * Starts again every reversal the network has not acknowledged and no delivery is working on:
   * those whose repeats ran out (`reversal.maxAttempts`) while the network stayed silent. Without
   * this they wait for the next start. `amulet serve` calls it once a minute. Resolves with how
   * many it started.
   */
  async resumeReversals(): Promise<number> {
    let started = 0;
    for (const record of await this.#options.store.inState(['reversal-pending'])) {
      if (this.#reversals.has(record.key)) continue;
      this.#startReversal(record.key);
      started++;
    }
    return started;
  }

  /** Reversals not yet acknowledged by the network. */
  get pendingReversals(): number {
    return this.#reversals.size;
  }

  /** Resolves when every reversal has been acknowledged. */
  async settled(): Promise<void> {
    while (this.#reversals.size > 0 || this.#inFlight.size > 0)
      await Promise.all([...this.#reversals.values(), ...this.#inFlight.values()]);
  }

  /** Stops starting new reversal rounds; what is unacknowledged stays in the table for the next start. */
  close(): void {
    this.#closed = true;
  }

  closeBatch(batchId: string): Promise<Capture[]> {
    return this.#options.store.closeBatch(batchId);
  }

  /** The transport handler for terminals' connections. */
  readonly handle = async (message: Iso8583Message): Promise<Iso8583Message | undefined> => {
    switch (message.mti) {
      case Mti.authorizationRequest:
      case '0101':
        return this.#authorize(message);
      case Mti.reversalRequest:
      case Mti.reversalAdvice:
      case Mti.reversalAdviceRepeat:
        return this.#terminalReversal(message);
      case Mti.networkManagementRequest:
        return responseTo(message, [7, 11, 41, 70], { [Field.responseCode]: ResponseCode.approved });
      default:
        if (/^0[0-9][13579][0-9]$/.test(message.mti)) return undefined;
        return responseTo(message, terminalEcho, { [Field.responseCode]: ResponseCode.invalidTransaction });
    }
  };

  /** Answers the network's own requests on our connection (0800 echo tests). */
  readonly handleNetworkRequest = (message: Iso8583Message): Iso8583Message | undefined =>
    message.mti === Mti.networkManagementRequest
      ? responseTo(message, [7, 11, 32, 70], { [Field.responseCode]: ResponseCode.approved })
      : undefined;

  #answer(request: Iso8583Message, code: string, extra: Record<number, FieldValue | undefined> = {}) {
    return responseTo(request, terminalEcho, { [Field.responseCode]: code, ...extra });
  }

  async #authorize(request: Iso8583Message): Promise<Iso8583Message> {
    const terminal = this.#terminals.get(text(request, Field.terminalId).trim());
    if (terminal === undefined) return this.#answer(request, ResponseCode.transactionNotPermittedToTerminal);
    const merchant = this.#merchants.get(terminal.merchantId);
    if (merchant === undefined || text(request, Field.merchantId).trim() !== terminal.merchantId)
      return this.#answer(request, ResponseCode.invalidMerchant);
    const fields = new Map(request.fields);
    fields.set(Field.acquiringInstitutionId, this.#acquirerId);
    fields.set(Field.merchantCategoryCode, merchant.mcc);
    fields.set(Field.merchantNameLocation, merchant.nameLocation.padEnd(40, ' ').slice(0, 40));
    const forward = createMessage(interchangeSpec, Mti.authorizationRequest, fields);
    const key = authorizationKey(forward);
    const running = this.#inFlight.get(key);
    if (running !== undefined) return running; // a duplicate while the first is in flight: one forward
    const work = this.#forward(request, forward, key);
    this.#inFlight.set(key, work);
    try {
      return await work;
    } finally {
      this.#inFlight.delete(key);
    }
  }

  async #forward(request: Iso8583Message, forward: Iso8583Message, key: string): Promise<Iso8583Message> {
    const kept: Record<string, string> = {};
    for (const field of keptFields) {
      const value = forward.fields.get(field);
      if (typeof value === 'string') kept[field] = value;
    }
    // The chip data goes with a reversal: it is how the token service recognizes an original it
    // approved when the network has forgotten the route (docs/acquirer.md, "Reversals").
    const icc = forward.fields.get(Field.iccData);
    if (Array.isArray(icc)) kept[Field.iccData] = toHex(encodeTlv(icc as readonly TlvNode[]));
    const inserted = await this.#options.store.insertPending({
      key,
      terminalId: text(forward, Field.terminalId).trim(),
      merchantId: text(forward, Field.merchantId).trim(),
      stan: text(forward, Field.stan),
      transmissionDateTime: text(forward, Field.transmissionDateTime),
      amount: Number(text(forward, Field.amount)),
      currency: text(forward, Field.currencyCode),
      dpan: text(forward, Field.pan),
      state: 'pending',
      request: kept,
    });
    if (!inserted) {
      // A repeat of an authorization already recorded: its stored answer, never a second forward.
      const known = await this.#options.store.get(key);
      return this.#storedAnswer(request, known);
    }
    let answer: Iso8583Message;
    try {
      answer = await this.#options.network.request(forward, {
        timeoutMs: this.#options.networkTimeoutMs ?? 5000,
      });
    } catch (error) {
      if (!isTransportError(error)) throw error;
      if (
        error.code === 'ERR_NOT_CONNECTED' ||
        error.code === 'ERR_CLOSED' ||
        error.code === 'ERR_TOO_MANY_IN_FLIGHT'
      ) {
        // Never left this host: declined, nothing to undo.
        await this.#options.store.transition(key, ['pending'], 'declined', {
          responseCode: ResponseCode.issuerUnavailable,
        });
      } else if (await this.#options.store.transition(key, ['pending'], 'reversal-pending')) {
        this.#startReversal(key);
      }
      return this.#storedAnswer(request, await this.#options.store.get(key));
    }
    const code = text(answer, Field.responseCode) || ResponseCode.systemMalfunction;
    const authorizationId = text(answer, Field.authorizationIdResponse);
    const to: AuthorizationState = isApproval(code) ? 'approved' : 'declined';
    const recorded = await this.#options.store.transition(key, ['pending'], to, {
      responseCode: code,
      ...(authorizationId === '' ? {} : { authorizationId }),
    });
    if (!recorded) return this.#storedAnswer(request, await this.#options.store.get(key));
    return this.#answer(request, code, {
      [Field.authorizationIdResponse]: authorizationId === '' ? undefined : authorizationId,
      [Field.additionalDataPrivate]: answer.fields.get(Field.additionalDataPrivate),
      [Field.iccData]: answer.fields.get(Field.iccData),
    });
  }

  /** The answer an authorization's recorded state gives: its response if final and not reversed, else 91. */
  #storedAnswer(request: Iso8583Message, record: AuthorizationRecord | undefined): Iso8583Message {
    if (record === undefined || !finalStates.has(record.state) || record.state === 'reversed')
      return this.#answer(request, ResponseCode.issuerUnavailable);
    return this.#answer(request, record.responseCode ?? ResponseCode.systemMalfunction, {
      [Field.authorizationIdResponse]: record.authorizationId,
    });
  }

  /** A terminal that got no answer reverses: the authorization must not stand, whatever its state. */
  async #terminalReversal(reversal: Iso8583Message): Promise<Iso8583Message> {
    const original = text(reversal, Field.originalDataElements);
    if (!/^[0-9]{42}$/.test(original)) return this.#answer(reversal, ResponseCode.formatError);
    const key = transactionKey({
      acquiringInstitutionId: institutionId(this.#acquirerId),
      terminalId: text(reversal, Field.terminalId),
      stan: original.slice(4, 10),
      transmissionDateTime: original.slice(10, 20),
    });
    // No waiting for an answer in flight: the reversal wins the compare-and-set, the late answer loses it.
    const record = await this.#options.store.get(key);
    if (record === undefined) {
      // The original never arrived (or not yet): record it as reversed so a late copy is never forwarded.
      await this.#options.store.insertPending({
        key,
        terminalId: text(reversal, Field.terminalId).trim(),
        merchantId: text(reversal, Field.merchantId).trim(),
        stan: original.slice(4, 10),
        transmissionDateTime: original.slice(10, 20),
        amount: Number(text(reversal, Field.amount) || '0'),
        currency: text(reversal, Field.currencyCode),
        dpan: text(reversal, Field.pan),
        state: 'reversed',
        request: {},
      });
    } else if (
      record.batchId === undefined &&
      (await this.#options.store.transition(key, ['pending', 'approved'], 'reversal-pending'))
    ) {
      this.#startReversal(key);
    }
    return responseTo(reversal, terminalEcho, { [Field.responseCode]: ResponseCode.approved });
  }

  #startReversal(key: string): void {
    if (this.#reversals.has(key)) return;
    const delivery = this.#deliverReversal(key).catch(() => undefined);
    this.#reversals.set(key, delivery);
    void delivery.finally(() => this.#reversals.delete(key));
  }

  /** ISO 8583:1987 reversal advice: 0420 with field 90, then 0421 repeats, until a 0430 comes. */
  async #deliverReversal(key: string): Promise<void> {
    const record = await this.#options.store.get(key);
    if (record === undefined || record.state !== 'reversal-pending') return;
    const fields = new Map<number, FieldValue>();
    for (const [field, value] of Object.entries(record.request)) {
      if (Number(field) !== Field.iccData) fields.set(Number(field), value);
    }
    const icc = storedChipData(record.request[Field.iccData]);
    if (icc !== undefined) fields.set(Field.iccData, icc);
    fields.set(
      Field.originalDataElements,
      originalDataElements({
        mti: Mti.authorizationRequest,
        stan: record.stan,
        transmissionDateTime: record.transmissionDateTime,
        acquiringInstitutionId: this.#acquirerId,
      }),
    );
    const advice = createMessage(interchangeSpec, Mti.reversalAdvice, fields);
    const repeat = (m: Iso8583Message) =>
      createMessage(interchangeSpec, Mti.reversalAdviceRepeat, new Map(m.fields));
    const intervalMs = this.#options.reversal?.intervalMs ?? 5000;
    // Giving up leaves the row reversal-pending for the next start or `resumeReversals`.
    const maxAttempts = this.#options.reversal?.maxAttempts ?? 10_000;
    const attempts = record.reversalAttempts;
    // The attempt is counted before it is sent, so after a restart the next one goes out as a repeat.
    await this.#options.store.countReversalAttempt(key, attempts + 1);
    // Sent before (an earlier round or run): repeats only, as retransmissions, which may take the
    // key the transport keeps reserved for a late answer to the earlier copy (docs/transport.md).
    const acknowledged = await deliverAdvice(this.#options.network, advice, {
      repeat,
      intervalMs,
      maxAttempts,
      clock: this.#clock,
      alreadySent: attempts > 0,
      stopped: () => this.#closed,
    });
    if (acknowledged === undefined) return;
    await this.#options.store.countReversalAttempt(key, attempts + acknowledged.attempts);
    await this.#options.store.transition(key, ['reversal-pending'], 'reversed');
  }
}

/** Field 55 as kept with the row (hex of its TLV); a row that does not decode is reversed without it. */
function storedChipData(hex: string | undefined): TlvNode[] | undefined {
  if (hex === undefined) return undefined;
  try {
    return decodeTlv(fromHex(hex));
  } catch {
    return undefined;
  }
}
