import { createHash } from 'node:crypto';
import {
  authorizationKey,
  editMessage,
  encodeTokenData,
  Field,
  interchangeCodec,
  Mti,
  originalAuthorizationKey,
  originalDataElements,
  ResponseCode,
  responseTo,
  TokenDataId,
  text,
} from '@amulet/contracts';
import type { FieldValue, Iso8583Message } from '@amulet/iso8583';
import {
  type Clock,
  deliverAdvice,
  isTransportError,
  systemClock,
  type TransportClient,
} from '@amulet/transport';
import type { AdviceKind, AdviceStore } from './advice-store.ts';
import { IssuerMemory } from './issuer-memory.ts';
import { MessageLog } from './message-log.ts';
import type { RoutingTable } from './routing-table.ts';

/** Stand-in limits for the cards of one BIN prefix, in minor units. */
export interface StandInLimit {
  /** A prefix of the real PAN (6 to 11 digits); the longest matching prefix applies. */
  readonly bin: string;
  /** Largest single authorization approved on the issuer's behalf. */
  readonly maxAmount: number;
  /** Largest total approved on the issuer's behalf for one card within `windowMs`. */
  readonly maxCardAmount: number;
}

export interface NetworkSwitchOptions {
  readonly routes: RoutingTable;
  /** Destination name (from the routing table) -> the client that reaches it. */
  readonly peers: ReadonlyMap<string, TransportClient<Iso8583Message>>;
  readonly clock?: Clock;
  readonly log?: MessageLog;
  /** How long the token service has to answer a detokenize-and-validate 0100; default 2000 ms. */
  readonly tokenServiceTimeoutMs?: number;
  /** How long the issuer has before stand-in processing answers instead; default 2000 ms. */
  readonly issuerTimeoutMs?: number;
  /** How long the issuer has to acknowledge a reversal before the acquirer must repeat it; default 2000 ms. */
  readonly reversalTimeoutMs?: number;
  readonly standIn?: { readonly limits: readonly StandInLimit[]; readonly windowMs?: number };
  /** 0120 advices and the switch's own 0420s: the wait for each answer, and the attempts before giving up (default 10 000). */
  readonly advice?: { readonly intervalMs?: number; readonly maxAttempts?: number };
  /**
   * Where those advices are kept until the issuer answers, so that a restart does not lose them
   * (`recover` sends what a previous run left). Without it they live in memory only.
   */
  readonly adviceStore?: AdviceStore;
  /** How long the route of an authorization is kept for its reversal; default 15 minutes. */
  readonly routeTtlMs?: number;
  /** Most routes kept whole (issuer, real PAN, answer); default 100 000. */
  readonly maxRoutes?: number;
  /**
   * Routes dropped to stay within `maxRoutes` while still within `routeTtlMs`: how many of them
   * keep their issuer (in 26 to 34 bytes each, no card data), so that a reversal still reaches it;
   * default 1 000 000.
   */
  readonly issuerMemoryEntries?: number;
}

/**
 * What the switch remembers of one authorization, in memory only, for its reversal and its
 * retransmissions: the issuer it went to and the real PAN behind the DPAN (never written out).
 */
interface RouteEntry {
  readonly createdAt: number;
  /** While the authorization is in flight: its answer to come, which a repeat joins. */
  done: Promise<Iso8583Message> | undefined;
  /**
   * Once answered: the answer's own fields (38, 39, 44, 48, 55: what it does not echo), from which
   * a repeat's answer is made again. Kept instead of the whole answer because routes live for
   * minutes and there are up to `maxRoutes` of them: a handful of fields is a fraction of the
   * memory and of the objects the garbage collector must trace (about 1.9 KB a route before).
   */
  answered?: readonly (readonly [number, FieldValue])[];
  issuer?: string;
  realPan?: string;
  realExpiry?: string;
  /** The stand-in advice, while it is being delivered. */
  advice?: Promise<void>;
  /** The 0430 the acquirer got for this authorization's reversal, to answer repeats. */
  reversalAnswer?: Iso8583Message;
  reversalInFlight?: Promise<Iso8583Message | undefined>;
}

/** Fields every answer to the acquirer echoes (ISO 8583:1987 4.3, "mandatory echo"). */
const echoFields = [
  Field.pan,
  Field.processingCode,
  Field.amount,
  Field.transmissionDateTime,
  Field.stan,
  Field.localTime,
  Field.localDate,
  Field.acquiringInstitutionId,
  Field.retrievalReferenceNumber,
  Field.terminalId,
  Field.merchantId,
  Field.currencyCode,
];
const echoed = new Set<number>(echoFields);

/**
 * The fields of an answer beyond those it echoes from its request, their text made flat to keep
 * (pairs, not an object keyed by field number, whose elements would be as many as the largest).
 */
function ownFields(answer: Iso8583Message): [number, FieldValue][] {
  const own: [number, FieldValue][] = [];
  for (const [field, value] of answer.fields)
    if (!echoed.has(field)) own.push([field, typeof value === 'string' ? flat(value) : value]);
  return own;
}

/**
 * `text`, made one flat string before it is kept for minutes. A decoded field longer than a few
 * characters arrives as a tree of the chunks the codec joined (a V8 cons string): about five
 * times the memory of the flat text, for the garbage collector to trace on every major
 * collection. Reading a character flattens it in place.
 */
function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}

/**
 * The network switch (DESIGN.md flow 5): routes an 0100 by BIN; a token BIN goes first to the
 * token service, whose approving 0110 carries the real PAN and expiry that replace fields 2 and
 * 14 on the way to the issuer found by the real PAN's BIN; the acquirer always gets the DPAN
 * back. When the issuer is silent, stand-in processing approves within limits and tells the
 * issuer by 0120 advice until it answers 0130. Reversals follow the route of their original.
 */
export class NetworkSwitch {
  readonly log: MessageLog;
  readonly #options: NetworkSwitchOptions;
  readonly #clock: Clock;
  readonly #routes = new Map<string, RouteEntry>();
  /** Reversals that arrived for an authorization the switch had not seen: a late original is declined. */
  readonly #tombstones = new Map<string, number>();
  readonly #standInUse = new Map<string, { since: number; amount: number }>();
  readonly #advices = new Set<Promise<void>>();
  /** Ids of kept advices being delivered now: `recover` leaves them alone. */
  readonly #keptInFlight = new Set<string>();
  /** Made when the first route is dropped for room (its arrays are sized once). */
  #issuerMemory: IssuerMemory | undefined;
  #authorizationIds = 0;
  #closed = false;

  constructor(options: NetworkSwitchOptions) {
    const entries = options.issuerMemoryEntries;
    if (entries !== undefined && (!Number.isSafeInteger(entries) || entries < 1))
      throw new RangeError('issuerMemoryEntries must be a positive whole number');
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.log = options.log ?? new MessageLog();
  }

  /** The transport handler for the acquirers' connections. */
  readonly handle = async (message: Iso8583Message): Promise<Iso8583Message | undefined> => {
    this.log.record(this.#clock.now(), 'in', 'acquirer', message);
    const answer = await this.#dispatch(message);
    if (answer !== undefined) this.log.record(this.#clock.now(), 'out', 'acquirer', answer);
    return answer;
  };

  /** Stand-in advices not yet acknowledged. */
  get pendingAdvices(): number {
    return this.#advices.size;
  }

  /** Resolves when every stand-in advice has been acknowledged. */
  async settled(): Promise<void> {
    while (this.#advices.size > 0) await Promise.all([...this.#advices]);
  }

  /**
   * Stops repeating advices. Those not acknowledged stay in the advice store for the next run's
   * `recover`; without a store they are lost with the process.
   */
  close(): void {
    this.#closed = true;
  }

  /**
   * Sends again every kept advice the issuer has not acknowledged and no delivery is working on:
   * at start, what a previous run left; later, those whose repeats ran out (`advice.maxAttempts`)
   * while the issuer stayed silent (`amulet serve` calls it once a minute). A 0420 goes as its
   * repeat, 0421, without a card number: the issuer finds its original by fields 90 and 41. A
   * token's stand-in 0120 goes first to the token service as an 0121, which answers with the real
   * PAN only for an authorization it approved, then to the issuer; a refusal there is final and
   * the advice is dropped. Resolves with how many it started. A row the codec cannot read is left
   * in the store and not counted.
   */
  async recover(): Promise<number> {
    const store = this.#options.adviceStore;
    if (store === undefined) return 0;
    let found = 0;
    for (const stored of await store.pending()) {
      if (this.#keptInFlight.has(stored.id)) continue;
      let message: Iso8583Message;
      try {
        message = interchangeCodec.decode(stored.message);
      } catch {
        continue; // not a message this codec reads: left where it is, for an operator to see
      }
      const delivery =
        stored.kind === 'reversal'
          ? this.#deliverAdvice(stored.issuer, message, stored.id, true)
          : this.#deliverRecoveredAdvice(stored.issuer, message, stored.id);
      this.#follow(delivery, stored.id);
      found += 1;
    }
    return found;
  }

  async #dispatch(message: Iso8583Message): Promise<Iso8583Message | undefined> {
    switch (message.mti) {
      case Mti.authorizationRequest:
      case '0101':
        return this.#authorize(message);
      case Mti.reversalRequest:
      case Mti.reversalAdvice:
      case Mti.reversalAdviceRepeat:
        return this.#reverse(message);
      case Mti.networkManagementRequest:
        return responseTo(
          message,
          [Field.transmissionDateTime, Field.stan, Field.acquiringInstitutionId, 70],
          {
            [Field.responseCode]: ResponseCode.approved,
          },
        );
      default:
        // A response or an advice response that matched nothing: nothing to answer.
        if (/^0[0-9][13579][0-9]$/.test(message.mti)) return undefined;
        return responseTo(message, echoFields, { [Field.responseCode]: ResponseCode.invalidTransaction });
    }
  }

  #decline(request: Iso8583Message, code: string, extra: Record<number, FieldValue | undefined> = {}) {
    return responseTo(request, echoFields, { [Field.responseCode]: code, ...extra });
  }

  #prune(): void {
    const ttl = this.#options.routeTtlMs ?? 15 * 60_000;
    const max = this.#options.maxRoutes ?? 100_000;
    const now = this.#clock.now();
    for (const [key, entry] of this.#routes) {
      if (now - entry.createdAt <= ttl && this.#routes.size <= max) break;
      this.#routes.delete(key);
      // Dropped for room while it may still be reversed: its issuer is remembered.
      if (now - entry.createdAt <= ttl && entry.issuer !== undefined) {
        this.#issuerMemory ??= new IssuerMemory(this.#options.issuerMemoryEntries ?? 1_000_000, ttl);
        this.#issuerMemory.remember(key, entry.issuer, entry.createdAt);
      }
    }
    for (const [key, at] of this.#tombstones) {
      if (now - at <= ttl && this.#tombstones.size <= max) break;
      this.#tombstones.delete(key);
    }
    // Stand-in totals per card: kept for one window, at most `maxRoutes` cards.
    const windowMs = this.#options.standIn?.windowMs ?? 24 * 3_600_000;
    for (const [card, use] of this.#standInUse) {
      if (now - use.since < windowMs && this.#standInUse.size <= max) break;
      this.#standInUse.delete(card);
    }
  }

  async #authorize(request: Iso8583Message): Promise<Iso8583Message> {
    const key = flat(authorizationKey(request));
    const known = this.#routes.get(key);
    // A repeat (0101, or a duplicated 0100) joins the first: one effect, the same answer (its
    // echoed fields, ISO 8583:1987 4.3, from the repeat, which carries the same ones).
    if (known !== undefined)
      return known.done ?? responseTo(request, echoFields, Object.fromEntries(known.answered ?? []));
    if (this.#tombstones.has(key)) return this.#decline(request, ResponseCode.duplicateTransmission);
    this.#prune();
    let settle!: (answer: Iso8583Message) => void;
    const entry: RouteEntry = {
      createdAt: this.#clock.now(),
      done: new Promise<Iso8583Message>((resolve) => {
        settle = resolve;
      }),
    };
    this.#routes.set(key, entry);
    const answer = await this.#route(request, entry).catch(() =>
      this.#decline(request, ResponseCode.systemMalfunction),
    );
    entry.answered = ownFields(answer);
    entry.done = undefined;
    settle(answer);
    return answer;
  }

  async #route(request: Iso8583Message, entry: RouteEntry): Promise<Iso8583Message> {
    const dpanOrPan = text(request, Field.pan);
    const first = this.#options.routes.find(dpanOrPan);
    if (first === undefined) return this.#decline(request, ResponseCode.invalidCardNumber);
    let toIssuer = request;
    let realPan = dpanOrPan;
    let tokenData: string | undefined;
    if (first.kind === 'token') {
      const tsp = this.#options.peers.get(first.destination);
      if (tsp === undefined) return this.#decline(request, ResponseCode.issuerUnavailable);
      let verdict: Iso8583Message;
      try {
        this.log.record(this.#clock.now(), 'out', first.destination, request);
        verdict = await tsp.request(request, { timeoutMs: this.#options.tokenServiceTimeoutMs ?? 2000 });
        this.log.record(this.#clock.now(), 'in', first.destination, verdict);
      } catch (error) {
        if (isTransportError(error)) return this.#decline(request, ResponseCode.issuerUnavailable);
        throw error;
      }
      const code = text(verdict, Field.responseCode);
      const verdictData = verdict.fields.get(Field.additionalDataPrivate);
      // The token service refused: its field 39 (and its reasons in 48) go straight back.
      if (code !== ResponseCode.approved)
        return this.#decline(request, code === '' ? ResponseCode.systemMalfunction : code, {
          [Field.additionalDataPrivate]: verdictData,
        });
      realPan = flat(text(verdict, Field.pan));
      tokenData = typeof verdictData === 'string' ? verdictData : undefined;
      toIssuer = editMessage(request, {
        [Field.pan]: realPan,
        [Field.expiry]: verdict.fields.get(Field.expiry),
        [Field.additionalDataPrivate]: tokenData,
      });
      entry.realExpiry = text(verdict, Field.expiry);
    }
    const target = this.#options.routes.find(realPan);
    if (target === undefined || target.kind !== 'issuer')
      return this.#decline(request, ResponseCode.invalidCardNumber, {
        [Field.additionalDataPrivate]: tokenData,
      });
    const issuer = this.#options.peers.get(target.destination);
    entry.issuer = target.destination;
    entry.realPan = realPan;
    let answer: Iso8583Message;
    try {
      if (issuer === undefined) throw new Error('no client');
      this.log.record(this.#clock.now(), 'out', target.destination, toIssuer);
      answer = await issuer.request(toIssuer, { timeoutMs: this.#options.issuerTimeoutMs ?? 2000 });
      this.log.record(this.#clock.now(), 'in', target.destination, answer);
    } catch (error) {
      if (issuer !== undefined && !isTransportError(error)) throw error;
      return await this.#standIn(request, toIssuer, entry, realPan, tokenData);
    }
    // Back to the acquirer: the DPAN (field 2 as the acquirer sent it), never the real PAN.
    const issuerData = answer.fields.get(Field.additionalDataPrivate);
    return responseTo(request, echoFields, {
      [Field.authorizationIdResponse]: answer.fields.get(Field.authorizationIdResponse),
      [Field.responseCode]: text(answer, Field.responseCode) || ResponseCode.systemMalfunction,
      [Field.additionalResponseData]: answer.fields.get(Field.additionalResponseData),
      [Field.additionalDataPrivate]: tokenData ?? issuerData,
      [Field.iccData]: answer.fields.get(Field.iccData),
    });
  }

  /** Stand-in processing: approve within the BIN's limits on the issuer's behalf, else 91. */
  async #standIn(
    request: Iso8583Message,
    toIssuer: Iso8583Message,
    entry: RouteEntry,
    realPan: string,
    tokenData: string | undefined,
  ): Promise<Iso8583Message> {
    const amount = Number(text(request, Field.amount) || 'NaN');
    const limit = (this.#options.standIn?.limits ?? [])
      .filter((candidate) => realPan.startsWith(candidate.bin))
      .sort((a, b) => b.bin.length - a.bin.length)[0];
    const now = this.#clock.now();
    const card = createHash('sha256').update(realPan).digest('hex');
    const windowMs = this.#options.standIn?.windowMs ?? 24 * 3_600_000;
    const used = this.#standInUse.get(card);
    const usedAmount = used !== undefined && now - used.since < windowMs ? used.amount : 0;
    if (
      limit === undefined ||
      !Number.isSafeInteger(amount) ||
      amount > limit.maxAmount ||
      usedAmount + amount > limit.maxCardAmount
    ) {
      // The issuer may have approved after all, its answer lost or late: reverse it there, so the
      // 91 the acquirer gets is the only outcome (ISO 8583:1987 reversal advice, 0420/0421). It is
      // kept without a card number: the issuer finds its original by fields 90 and 41.
      const reversal = reversalOf(toIssuer);
      const id = await this.#record('reversal', request, entry, () =>
        editMessage(reversal, { [Field.pan]: undefined, [Field.expiry]: undefined }),
      );
      this.#track(entry, this.#deliverAdvice(entry.issuer ?? '', reversal, id), id);
      return this.#decline(request, ResponseCode.issuerUnavailable, {
        [Field.additionalDataPrivate]: tokenData,
      });
    }
    const current = used !== undefined && now - used.since < windowMs;
    // A new window goes to the end of the map, which is kept in order of window start for pruning.
    if (!current) this.#standInUse.delete(card);
    this.#standInUse.set(card, { since: current ? used.since : now, amount: usedAmount + amount });
    this.#authorizationIds = (this.#authorizationIds + 1) % 100_000;
    const authorizationId = `S${String(this.#authorizationIds).padStart(5, '0')}`;
    const standInData = (tokenData ?? '') + encodeTokenData([[TokenDataId.standIn, 'Y']]);
    const advice = editMessage(
      toIssuer,
      {
        [Field.authorizationIdResponse]: authorizationId,
        [Field.responseCode]: ResponseCode.approved,
        [Field.additionalDataPrivate]: standInData,
      },
      Mti.authorizationAdvice,
    );
    // Kept as the acquirer sent it (the DPAN and its chip data), never with the real PAN; a card
    // number's advice is not kept at all (DESIGN.md invariant 2) and lives in memory only.
    const id = await this.#record('advice', request, entry, () =>
      tokenData === undefined
        ? undefined
        : editMessage(
            request,
            {
              [Field.authorizationIdResponse]: authorizationId,
              [Field.responseCode]: ResponseCode.approved,
              [Field.additionalDataPrivate]: standInData,
            },
            Mti.authorizationAdvice,
          ),
    );
    this.#track(entry, this.#deliverAdvice(entry.issuer ?? '', advice, id), id);
    return responseTo(request, echoFields, {
      [Field.authorizationIdResponse]: authorizationId,
      [Field.responseCode]: ResponseCode.approved,
      [Field.additionalDataPrivate]: standInData,
    });
  }

  #track(entry: RouteEntry, delivery: Promise<void>, id: string | undefined): void {
    entry.advice = delivery;
    this.#follow(delivery, id);
  }

  /** Counts a delivery until it ends (`settled`, `pendingAdvices`), and its kept advice as in flight. */
  #follow(delivery: Promise<void>, id: string | undefined): void {
    this.#advices.add(delivery);
    if (id !== undefined) this.#keptInFlight.add(id);
    void delivery.finally(() => {
      this.#advices.delete(delivery);
      if (id !== undefined) this.#keptInFlight.delete(id);
    });
  }

  /**
   * Writes the form of an advice that may be kept (`keep` gives none for one that may not) to the
   * advice store, committed before the acquirer hears the outcome; its id, or undefined when there
   * is no store, nothing to keep, or the write failed (the advice is then delivered from memory
   * only, as without a store).
   */
  async #record(
    kind: AdviceKind,
    request: Iso8583Message,
    entry: RouteEntry,
    keep: () => Iso8583Message | undefined,
  ): Promise<string | undefined> {
    const store = this.#options.adviceStore;
    const message = store === undefined ? undefined : keep();
    if (store === undefined || message === undefined) return undefined;
    const id = `${kind}:${authorizationKey(request)}`;
    // In flight from before it is written, so a `recover` running meanwhile leaves it alone.
    this.#keptInFlight.add(id);
    try {
      await store.add({ id, kind, issuer: entry.issuer ?? '', message: interchangeCodec.encode(message) });
      return id;
    } catch {
      this.#keptInFlight.delete(id);
      return undefined;
    }
  }

  /** Removes a delivered advice from the store; if that fails it is sent again next run (the issuer answers a repeat once). */
  async #forget(id: string): Promise<void> {
    await this.#options.adviceStore?.acknowledge(id).catch(() => undefined);
  }

  /**
   * A kept token advice from a previous run: the token service names the real PAN again (asked
   * until it answers), then the advice goes to the issuer. A refusal is final: dropped.
   */
  async #deliverRecoveredAdvice(issuerName: string, kept: Iso8583Message, id: string): Promise<void> {
    const route = this.#options.routes.find(text(kept, Field.pan));
    const tsp = route?.kind === 'token' ? this.#options.peers.get(route.destination) : undefined;
    if (route === undefined || tsp === undefined) return;
    const intervalMs = this.#options.advice?.intervalMs ?? 2000;
    const asked = repeatOf(kept);
    while (!this.#closed) {
      let located: Iso8583Message;
      try {
        this.log.record(this.#clock.now(), 'out', route.destination, asked);
        located = await tsp.request(asked, { timeoutMs: intervalMs, retransmission: true });
        this.log.record(this.#clock.now(), 'in', route.destination, located);
      } catch (error) {
        if (!isTransportError(error) || error.code === 'ERR_CLOSED') return;
        await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, intervalMs));
        continue;
      }
      if (text(located, Field.responseCode) !== ResponseCode.approved) return this.#forget(id);
      const advice = editMessage(kept, {
        [Field.pan]: located.fields.get(Field.pan),
        [Field.expiry]: located.fields.get(Field.expiry),
      });
      return this.#deliverAdvice(issuerName, advice, id, true);
    }
  }

  /**
   * Sends an advice (0120 or 0420) and its repeats (0121, 0421) until the issuer answers; then
   * removes it (`id`) from the advice store. `alreadySent`: it went out before (a kept advice).
   */
  async #deliverAdvice(
    issuerName: string,
    advice: Iso8583Message,
    id?: string,
    alreadySent = false,
  ): Promise<void> {
    const issuer = this.#options.peers.get(issuerName);
    if (issuer === undefined) return;
    const intervalMs = this.#options.advice?.intervalMs ?? 2000;
    const maxAttempts = this.#options.advice?.maxAttempts ?? 10_000;
    // Sent before (an earlier round or run): repeats only, as retransmissions, which may take the
    // key the transport keeps reserved for a late answer to the earlier copy.
    const acknowledged = await deliverAdvice(issuer, advice, {
      repeat: repeatOf,
      intervalMs,
      maxAttempts,
      clock: this.#clock,
      alreadySent,
      stopped: () => this.#closed,
      beforeRound: (repeatsOnly) =>
        this.log.record(this.#clock.now(), 'out', issuerName, repeatsOnly ? repeatOf(advice) : advice),
    });
    // Given up or closed: a kept advice waits for the next `recover`; one in memory only is lost
    // with the process.
    if (acknowledged === undefined) return;
    this.log.record(this.#clock.now(), 'in', issuerName, acknowledged.response);
    if (id !== undefined) await this.#forget(id);
  }

  async #reverse(reversal: Iso8583Message): Promise<Iso8583Message | undefined> {
    const key = originalAuthorizationKey(reversal);
    if (key === undefined) return this.#decline(reversal, ResponseCode.formatError);
    const entry = this.#routes.get(key);
    if (entry === undefined) {
      const issuer = this.#issuerMemory?.issuerOf(key, this.#clock.now());
      if (issuer !== undefined) return this.#forwardToRemembered(reversal, issuer);
      // Never seen here, or its route is gone with its issuer (a restart, or past routeTtlMs). A
      // late original is declined. The issuer may still hold an original this switch forgot: a
      // card number's reversal goes to the issuer of its BIN, a token's to the issuer the token
      // service names for it.
      this.#tombstones.set(key, this.#clock.now());
      const byBin = this.#options.routes.find(text(reversal, Field.pan));
      if (byBin?.kind === 'issuer') return this.#forwardToRemembered(reversal, byBin.destination);
      if (byBin?.kind === 'token') return this.#reverseThroughTokenService(reversal, byBin.destination);
      return this.#decline(reversal, ResponseCode.approved);
    }
    await entry.done;
    if (entry.reversalAnswer !== undefined) return editMessage(entry.reversalAnswer, {});
    if (entry.issuer === undefined || entry.realPan === undefined)
      return this.#remember(entry, this.#decline(reversal, ResponseCode.approved));
    if (entry.reversalInFlight !== undefined) return undefined; // the acquirer repeats until answered
    const flight = this.#forwardReversal(reversal, entry);
    entry.reversalInFlight = flight;
    try {
      return await flight;
    } finally {
      delete entry.reversalInFlight;
    }
  }

  async #forwardReversal(reversal: Iso8583Message, entry: RouteEntry): Promise<Iso8583Message | undefined> {
    // A stand-in approval reaches the issuer as an advice first, so the reversal finds its original.
    if (entry.advice !== undefined) await entry.advice;
    const changes: Record<number, FieldValue | undefined> = { [Field.pan]: entry.realPan };
    if (entry.realExpiry !== undefined) changes[Field.expiry] = entry.realExpiry;
    const answer = await this.#sendReversal(reversal, editMessage(reversal, changes), entry.issuer!);
    return answer === undefined ? undefined : this.#remember(entry, answer);
  }

  /**
   * A reversal whose route is gone: to the issuer remembered for it (or, for a card number, the
   * issuer of its BIN), which finds the original by field 90 and field 41. The real PAN is no
   * longer known, so a token's reversal goes without fields 2 and 14 (the issuer never sees a
   * DPAN); a card number's goes as it came. Each repeat goes to the issuer again, which releases a
   * hold once whatever it is sent.
   */
  #forwardToRemembered(reversal: Iso8583Message, issuerName: string): Promise<Iso8583Message | undefined> {
    const route = this.#options.routes.find(text(reversal, Field.pan));
    const forward =
      route?.kind === 'issuer'
        ? reversal
        : editMessage(reversal, { [Field.pan]: undefined, [Field.expiry]: undefined });
    return this.#sendReversal(reversal, forward, issuerName);
  }

  /**
   * A token's reversal with no route and no remembered issuer: the token service answers with the
   * real PAN of the original when its chip data (field 55) names an authorization it approved, and
   * the reversal goes with that PAN to the issuer of its BIN, as by a route. A refusal (no such
   * approval, no chip data, an unknown token) leaves nothing to undo here: acknowledged. No answer:
   * none to the acquirer either, which repeats.
   */
  async #reverseThroughTokenService(
    reversal: Iso8583Message,
    tokenServiceName: string,
  ): Promise<Iso8583Message | undefined> {
    const tsp = this.#options.peers.get(tokenServiceName);
    if (tsp === undefined) return this.#decline(reversal, ResponseCode.approved);
    let located: Iso8583Message;
    try {
      this.log.record(this.#clock.now(), 'out', tokenServiceName, reversal);
      located = await tsp.request(reversal, {
        timeoutMs: this.#options.tokenServiceTimeoutMs ?? 2000,
        retransmission: true,
      });
      this.log.record(this.#clock.now(), 'in', tokenServiceName, located);
    } catch (error) {
      if (isTransportError(error)) return undefined;
      throw error;
    }
    const realPan = text(located, Field.pan);
    const target = this.#options.routes.find(realPan);
    if (text(located, Field.responseCode) !== ResponseCode.approved || target?.kind !== 'issuer')
      return this.#decline(reversal, ResponseCode.approved);
    const forward = editMessage(reversal, {
      [Field.pan]: realPan,
      [Field.expiry]: located.fields.get(Field.expiry),
    });
    return this.#sendReversal(reversal, forward, target.destination);
  }

  /** Sends `forward` to the issuer until it answers; the acquirer's answer, or none (it repeats). */
  async #sendReversal(
    reversal: Iso8583Message,
    forward: Iso8583Message,
    issuerName: string,
  ): Promise<Iso8583Message | undefined> {
    const issuer = this.#options.peers.get(issuerName);
    if (issuer === undefined) return undefined;
    try {
      this.log.record(this.#clock.now(), 'out', issuerName, forward);
      const answer = await issuer.request(forward, {
        timeoutMs: this.#options.reversalTimeoutMs ?? 2000,
        retransmission: true,
      });
      this.log.record(this.#clock.now(), 'in', issuerName, answer);
      return responseTo(reversal, echoFields, {
        [Field.responseCode]: text(answer, Field.responseCode) || ResponseCode.approved,
      });
    } catch (error) {
      if (isTransportError(error)) return undefined;
      throw error;
    }
  }

  #remember(entry: RouteEntry, answer: Iso8583Message): Iso8583Message {
    entry.reversalAnswer = answer;
    return answer;
  }
}

/** The 0420 that undoes an 0100 sent to the issuer, with field 90 naming it. */
function reversalOf(request: Iso8583Message): Iso8583Message {
  return editMessage(
    request,
    {
      [Field.iccData]: undefined,
      [Field.originalDataElements]: originalDataElements({
        mti: request.mti,
        stan: text(request, Field.stan),
        transmissionDateTime: text(request, Field.transmissionDateTime),
        acquiringInstitutionId: text(request, Field.acquiringInstitutionId),
      }),
    },
    Mti.reversalAdvice,
  );
}

function repeatOf(message: Iso8583Message): Iso8583Message {
  return editMessage(message, {}, `${message.mti.slice(0, 3)}1`);
}
