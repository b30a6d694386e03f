import type { Hsm } from '@amulet/hsm';
import {
  type Actor,
  type Issuer,
  type PanRecord,
  type Repositories,
  type Store,
  StoreError,
  type TokenBinRange,
  type TokenRecord,
  type TokenRequestor,
} from '@amulet/store';
import { decryptCardJwe, jwePublicJwk } from './card-jwe.ts';
import { CardProtection, type CardProtectionKeys } from './card-protection.ts';
import { DeviceCertificates, type DeviceCheck, type DeviceTrustConfig } from './device-certificate.ts';
import type { IdvDecision, IdvGateway, IdvRequest } from './idv.ts';
import { maskPan } from './mask.ts';
import { isPan, networkOf, newDpan, newPar } from './numbers.ts';
import { OrderedIds } from './ordered-ids.ts';
import { eventTypeOf, type LifecycleAction, nextStatus } from './token-lifecycle.ts';
import { TokenServiceError } from './token-service-error.ts';
import type { World } from './world.ts';

/** The card profile the tokens of one network are issued with. */
export interface NetworkProfile {
  /** The HSM issuer master key (imk-ac) of the token BIN ranges of this network. */
  readonly imkKeyId: string;
  /** Visa 18 (TDEA) or 22 (AES IMK); Mastercard 17. */
  readonly cvn: 17 | 18 | 22;
  readonly psn?: string;
}

export interface TokenServiceKeys extends CardProtectionKeys {
  /** P-256 `key-agreement` key: the TSP's JWE key (RFC 7518 ECDH-ES+A256KW). */
  readonly jweKeyId: string;
}

export interface TokenServiceOptions {
  readonly store: Store;
  readonly hsm: Hsm;
  readonly world: World;
  readonly keys: TokenServiceKeys;
  readonly profiles: Readonly<Partial<Record<'visa' | 'mastercard', NetworkProfile>>>;
  readonly deviceTrust: DeviceTrustConfig;
  readonly idv: IdvGateway;
  /** The 4-character BIN Controller id that starts every PAR (EMVCo PAR). */
  readonly binControllerId: string;
  /** Token validity in months from issuance (capped at the card's expiry); default 36. */
  readonly tokenValidityMonths?: number;
  /**
   * How long the HTTP API remembers an Idempotency-Key after its first use (`expireIdempotencyKeys`);
   * default 24 hours, the least Stripe keeps them. At least one minute.
   */
  readonly idempotencyRetentionMs?: number;
}

/** Token assurance methods this TSP records (Amulet's codes, carried in field 48 '07'). */
export const AssuranceMethod = { issuerIdv: '10', issuerOtp: '11' } as const;

export interface TokenizeInput {
  readonly requestorTrid: string;
  /** Compact JWE (RFC 7516) of the card data, encrypted to the TSP's JWE key. */
  readonly encryptedCard: string;
  /** The device certificate chain, DER, leaf first. */
  readonly deviceCertificateChain: readonly Uint8Array[];
  /** Label shown on the device (16 characters at most on the SE). */
  readonly label?: string;
  readonly actor?: Actor;
}

/** What a requestor may see of a token: never the DPAN or the PAN (DESIGN.md invariant 1). */
export interface TokenView {
  readonly tokenId: string;
  readonly status: TokenRecord['status'];
  readonly lastFour: string;
  readonly tokenExpiry: string;
  readonly par: string;
  readonly requestorTrid: string;
  readonly deviceId: string;
  readonly assuranceMethod: string;
  readonly provisioning: string;
  readonly createdAt: string;
}

export type TokenizeOutcome =
  | { readonly status: 'provisioning'; readonly token: TokenView }
  | { readonly status: 'step-up'; readonly token: TokenView }
  | { readonly status: 'declined'; readonly reason: string };

export type StatusOutcome =
  | { readonly tokenId: string; readonly ok: true; readonly status: TokenRecord['status'] }
  | {
      readonly tokenId: string;
      readonly ok: false;
      readonly problem: 'not-found' | 'not-allowed' | 'conflict';
    };

const DPAN_ATTEMPTS_MAX = 16;

/** What a requestor sees of a token: never the DPAN or the PAN, the last four digits only. */
function tokenViewOf(token: TokenRecord, par: string, provisioning: string): TokenView {
  return {
    tokenId: token.id,
    status: token.status,
    lastFour: token.dpan.slice(-4),
    tokenExpiry: token.tokenExpiry,
    par,
    requestorTrid: token.requestorTrid,
    deviceId: token.device.certificateFingerprint,
    assuranceMethod: token.assuranceMethod,
    provisioning,
    createdAt: token.createdAt,
  };
}

/**
 * The token service core: requestors, BIN ranges and issuers; tokenization with ID&V; the
 * token's lifecycle. It holds no state of its own: the vault is the store, the keys the HSM.
 */
export class TokenService {
  readonly store: Store;
  readonly hsm: Hsm;
  readonly world: World;
  readonly cards: CardProtection;
  readonly #options: TokenServiceOptions;
  readonly #devices: DeviceCertificates;
  /** Ids of the rows a tokenization writes (PAN record, token, event): in creation order, see OrderedIds. */
  readonly #ids: OrderedIds;

  constructor(options: TokenServiceOptions) {
    const retention = options.idempotencyRetentionMs;
    if (retention !== undefined && !(Number.isSafeInteger(retention) && retention >= 60_000))
      throw new TokenServiceError(
        'ERR_TSP_INPUT',
        'idempotencyRetentionMs must be a whole number of ms, at least 60000',
      );
    this.#options = options;
    this.store = options.store;
    this.hsm = options.hsm;
    this.world = options.world;
    this.cards = new CardProtection(options.hsm, options.keys, options.world);
    this.#devices = new DeviceCertificates(options.deviceTrust);
    this.#ids = new OrderedIds(options.world);
  }

  /**
   * Forgets the Idempotency-Keys first used more than `idempotencyRetentionMs` ago, oldest first,
   * at most `limit` in one transaction; `more` says whether to call again. Without it the keys,
   * each with its stored response, would pile up for as long as the service runs. `amulet serve`
   * calls it every minute.
   */
  expireIdempotencyKeys(limit = 100): Promise<{ readonly removed: number; readonly more: boolean }> {
    const retentionMs = this.#options.idempotencyRetentionMs ?? 24 * 60 * 60_000;
    return this.store.idempotency.expire(new Date(this.world.now().getTime() - retentionMs), limit);
  }

  // ---- Configuration ----

  addRequestor(input: Omit<TokenRequestor, 'createdAt'>): Promise<TokenRequestor> {
    return this.store.requestors.add(input);
  }
  addBinRange(range: TokenBinRange): Promise<TokenBinRange> {
    return this.store.binRanges.add(range);
  }
  addIssuer(issuer: Issuer): Promise<Issuer> {
    return this.store.issuers.add(issuer);
  }
  jwePublicKey(): Promise<Record<string, string>> {
    return jwePublicJwk(this.hsm, this.#options.keys.jweKeyId);
  }

  // ---- Tokenize ----

  async tokenize(input: TokenizeInput): Promise<TokenizeOutcome> {
    const requestor = await this.#requestor(input.requestorTrid);
    // Decrypted inside this call only; the card data never reaches a log or the store in clear.
    const card = await decryptCardJwe(this.hsm, this.#options.keys.jweKeyId, input.encryptedCard);
    const device = this.#devices.verify(input.deviceCertificateChain, this.world.now().getTime());
    if (device.status === 'invalid')
      throw new TokenServiceError('ERR_TSP_DEVICE_CERTIFICATE', `the device certificate is ${device.reason}`);
    if (device.tenantId !== undefined && device.tenantId !== requestor.tenant)
      throw new TokenServiceError('ERR_TSP_DEVICE_CERTIFICATE', 'the device belongs to another tenant');
    if (this.#cardExpired(card.expiry)) return { status: 'declined', reason: 'CARD_EXPIRED' };
    // A DPAN is never tokenized as if it were a card.
    if ((await this.store.vault.findTokenByDpan(card.pan)) !== undefined)
      throw new TokenServiceError('ERR_TSP_CARD_DATA', 'the card data could not be decrypted');
    const network = networkOf(card.pan);
    const profile = network === undefined ? undefined : this.#options.profiles[network];
    if (network === undefined || profile === undefined)
      throw new TokenServiceError('ERR_TSP_NO_BIN_RANGE', 'no token profile for this card network');
    const ranges = await this.store.binRanges.listByNetwork(network);
    if (ranges.length === 0)
      throw new TokenServiceError('ERR_TSP_NO_BIN_RANGE', `no token BIN range for network ${network}`);
    const issuer = await this.store.issuers.findByBin(card.pan.slice(0, 11));
    if (issuer === undefined)
      throw new TokenServiceError('ERR_TSP_ISSUER_UNKNOWN', `no issuer for BIN ${card.pan.slice(0, 6)}`);

    const decision: IdvDecision = await this.#options.idv.ask(issuer, {
      pan: card.pan,
      expiry: card.expiry,
      requestorTrid: requestor.trid,
      deviceId: device.fingerprint,
      reason: 'TAR',
    });
    if (decision.decision === 'red') {
      await this.store.audit.append({
        actor: 'tsp',
        action: 'tokenize.declined',
        subject: requestor.trid,
        details: { reason: decision.reason, bin: card.pan.slice(0, 6) },
      });
      return { status: 'declined', reason: `ISSUER_DECLINED_${decision.reason}` };
    }

    // One PAN record per PAN (one PAR across its tokens), found by the keyed hash; a new one is
    // written in the token's own transaction (one commit per tokenization).
    const lookup = await this.cards.lookup(card.pan);
    let panRecord = await this.store.vault.findPanRecordByLookup(lookup);
    const newRecord =
      panRecord === undefined
        ? {
            id: this.#ids.next('pan'),
            par: newPar(this.world, this.#options.binControllerId),
            // The lookup computed above is this PAN's: one CMAC in the HSM, not two.
            ...(await this.cards.protect({ pan: card.pan, expiry: card.expiry }, lookup)),
          }
        : undefined;
    const range = ranges[0] as TokenBinRange;
    const tokenExpiry = this.#tokenExpiry(card.expiry);
    const green = decision.decision === 'green';
    for (let attempt = 0; ; attempt++) {
      const dpan = newDpan(this.world, range);
      if (dpan === card.pan || !isPan(dpan)) continue;
      // Never equal to any PAN in the vault (the keyed hash finds it without decrypting anything).
      if ((await this.store.vault.findPanRecordByLookup(await this.cards.lookup(dpan))) !== undefined)
        continue;
      const tokenId = this.#ids.next('tok');
      try {
        const view = await this.store.transaction(async (tx) => {
          const record =
            panRecord ?? (await tx.vault.insertPanRecord(newRecord as NonNullable<typeof newRecord>));
          const token = await tx.vault.insertToken({
            id: tokenId,
            dpan,
            tokenExpiry,
            status: 'inactive',
            requestorTrid: requestor.trid,
            panRecordId: record.id,
            device: { certificateSerial: device.serial, certificateFingerprint: device.fingerprint },
            domainControls: { posEntryModes: ['07'], deviceBound: true, requestorBound: true },
            assuranceMethod: green ? AssuranceMethod.issuerIdv : AssuranceMethod.issuerOtp,
            actor: input.actor ?? 'wallet',
          });
          const card = await tx.cards.add({
            tokenId,
            cvn: profile.cvn,
            psn: profile.psn ?? '00',
            imkKeyId: profile.imkKeyId,
            provisioning: green ? 'pending' : 'step-up',
          });
          await tx.audit.append({
            actor: 'tsp',
            action: 'token.created',
            subject: tokenId,
            details: { requestor: requestor.trid, idv: decision.decision, dpan: maskPan(dpan) },
          });
          await this.#raise(tx, requestor.trid, 'token.created', tokenId, {
            status: 'inactive',
            lastFour: dpan.slice(-4),
            idv: decision.decision,
          });
          // The view is built from the rows this transaction wrote, so the answer needs no read back.
          return tokenViewOf(token, record.par, card.provisioning);
        });
        return green ? { status: 'provisioning', token: view } : { status: 'step-up', token: view };
      } catch (error) {
        if (
          !(error instanceof StoreError) ||
          error.code !== 'ERR_STORE_DUPLICATE' ||
          attempt >= DPAN_ATTEMPTS_MAX
        )
          throw error;
        // A DPAN drawn twice, or a concurrent first tokenization of the same PAN: read its record.
        panRecord ??= await this.store.vault.findPanRecordByLookup(lookup);
      }
    }
  }

  /** Step-up: the cardholder typed the issuer's OTP; the issuer checks it ('00' lets provisioning go on). */
  async activateWithOtp(input: {
    tokenId: string;
    requestorTrid: string;
    otp: string;
  }): Promise<TokenizeOutcome> {
    if (!/^[0-9A-Za-z]{4,12}$/.test(input.otp))
      throw new TokenServiceError('ERR_TSP_INPUT', 'an OTP is 4 to 12 letters or digits');
    const token = await this.#ownedToken(input.tokenId, input.requestorTrid);
    const card = await this.store.cards.get(token.id);
    if (card?.provisioning !== 'step-up' || token.status !== 'inactive')
      throw new TokenServiceError('ERR_TSP_STATE', 'the token is not waiting for an OTP');
    const record = await this.#panRecordOf(token);
    const secret = await this.cards.reveal(record);
    const issuer = await this.store.issuers.findByBin(secret.pan.slice(0, 11));
    if (issuer === undefined)
      throw new TokenServiceError('ERR_TSP_ISSUER_UNKNOWN', 'no issuer for this card');
    const request: IdvRequest = {
      pan: secret.pan,
      expiry: secret.expiry,
      requestorTrid: token.requestorTrid,
      deviceId: token.device.certificateFingerprint,
      reason: 'OTP',
      otp: input.otp,
    };
    const decision = await this.#options.idv.ask(issuer, request);
    if (decision.decision !== 'green') {
      const reason = decision.decision === 'red' ? decision.reason : 'step-up';
      await this.store.audit.append({
        actor: 'tsp',
        action: 'otp.declined',
        subject: token.id,
        details: { reason },
      });
      return { status: 'declined', reason: `ISSUER_DECLINED_${reason}` };
    }
    const moved = await this.store.cards.moveProvisioning(token.id, ['step-up'], 'pending');
    if (!moved) throw new TokenServiceError('ERR_TSP_STATE', 'the token is not waiting for an OTP');
    await this.store.audit.append({ actor: 'issuer', action: 'otp.verified', subject: token.id });
    return { status: 'provisioning', token: await this.view(token.id) };
  }

  // ---- Lifecycle ----

  async view(tokenId: string): Promise<TokenView> {
    const token = await this.store.vault.getToken(tokenId);
    if (token === undefined) throw new TokenServiceError('ERR_TSP_NOT_FOUND', 'no such token');
    return this.#viewOf(token);
  }

  /** A requestor's own token; another requestor's is "not found" (DESIGN.md invariant 9). */
  async getToken(tokenId: string, requestorTrid?: string): Promise<TokenView> {
    return this.#viewOf(await this.#ownedToken(tokenId, requestorTrid));
  }

  async search(query: { requestorTrid?: string; deviceId?: string; par?: string }): Promise<TokenView[]> {
    let tokens: TokenRecord[];
    if (query.deviceId !== undefined) tokens = await this.store.vault.findTokensByDevice(query.deviceId);
    else if (query.par !== undefined) tokens = await this.store.vault.findTokensByPar(query.par);
    else if (query.requestorTrid !== undefined)
      tokens = await this.store.vault.findTokensByRequestor(query.requestorTrid);
    else throw new TokenServiceError('ERR_TSP_INPUT', 'search by device, PAR or requestor');
    if (query.requestorTrid !== undefined)
      tokens = tokens.filter((t) => t.requestorTrid === query.requestorTrid);
    return Promise.all(tokens.map((t) => this.#viewOf(t)));
  }

  /**
   * Suspend, resume or delete many tokens in one transaction (DESIGN.md flow 8: "lost" suspends
   * every token of a device, committed before the answer). Each token gets its own outcome.
   */
  async changeStatus(input: {
    tokenIds: readonly string[];
    action: Exclude<LifecycleAction, 'activate'>;
    actor: Actor;
    reason: string;
    requestorTrid?: string;
  }): Promise<StatusOutcome[]> {
    if (input.tokenIds.length === 0 || input.tokenIds.length > 1000)
      throw new TokenServiceError('ERR_TSP_INPUT', 'between 1 and 1000 tokens per call');
    if (input.reason.length === 0 || input.reason.length > 200)
      throw new TokenServiceError('ERR_TSP_INPUT', 'a reason of 1 to 200 characters is required');
    return this.store.transaction(async (tx) => {
      const outcomes: StatusOutcome[] = [];
      for (const tokenId of input.tokenIds) {
        const token = await tx.vault.getToken(tokenId);
        if (
          token === undefined ||
          (input.requestorTrid !== undefined && token.requestorTrid !== input.requestorTrid)
        ) {
          outcomes.push({ tokenId, ok: false, problem: 'not-found' });
          continue;
        }
        const to = nextStatus(token.status, input.action);
        if (to === undefined) {
          outcomes.push({ tokenId, ok: false, problem: 'not-allowed' });
          continue;
        }
        const [result] = await tx.vault.changeStatus([
          { tokenId, to, actor: input.actor, reason: input.reason, expectedVersion: token.statusVersion },
        ]);
        if (result === undefined || !result.ok) {
          outcomes.push({ tokenId, ok: false, problem: 'conflict' });
          continue;
        }
        await tx.audit.append({
          actor: input.actor,
          action: eventTypeOf[input.action],
          subject: tokenId,
          details: { reason: input.reason, from: token.status, to },
        });
        await this.#raise(tx, token.requestorTrid, eventTypeOf[input.action], tokenId, {
          status: to,
          actor: input.actor,
          reason: input.reason,
        });
        outcomes.push({ tokenId, ok: true, status: to });
      }
      return outcomes;
    });
  }

  /**
   * Checks a device certificate chain (leaf first) against the root of trust as tokenization
   * does, now: the provisioning loader uses it for the SE's own chain (GET DATA BF21).
   */
  checkDeviceChain(chain: readonly Uint8Array[]): DeviceCheck {
    return this.#devices.verify(chain, this.world.now().getTime());
  }

  /** Turns a provisioned token active: called only on the secure element's verified confirmation. */
  async activateProvisioned(tokenId: string): Promise<TokenView> {
    const moved = await this.store.transaction(async (tx) => {
      const token = await tx.vault.getToken(tokenId);
      if (token === undefined || token.status !== 'inactive') return false;
      const [result] = await tx.vault.changeStatus([
        {
          tokenId,
          to: 'active',
          actor: 'tsp',
          reason: 'secure element confirmed personalization',
          expectedVersion: token.statusVersion,
        },
      ]);
      if (result === undefined || !result.ok) return false;
      await tx.audit.append({ actor: 'tsp', action: 'token.activated', subject: tokenId });
      await this.#raise(tx, token.requestorTrid, 'token.activated', tokenId, { status: 'active' });
      return true;
    });
    if (!moved) throw new TokenServiceError('ERR_TSP_STATE', 'the token cannot be activated');
    return this.view(tokenId);
  }

  /** Issuer PAN update (card reissued): same record, same PAR, every token keeps working. */
  async updatePan(input: { currentPan: string; newPan: string; newExpiry: string; actor?: Actor }): Promise<{
    par: string;
    tokens: number;
  }> {
    if (!isPan(input.currentPan) || !isPan(input.newPan) || !/^\d{2}(0[1-9]|1[0-2])$/.test(input.newExpiry))
      throw new TokenServiceError('ERR_TSP_INPUT', 'a PAN update needs two valid PANs and a YYMM expiry');
    const record = await this.store.vault.findPanRecordByLookup(await this.cards.lookup(input.currentPan));
    if (record === undefined)
      throw new TokenServiceError('ERR_TSP_NOT_FOUND', 'no vault record for this card');
    const protectedCard = await this.cards.protect({ pan: input.newPan, expiry: input.newExpiry });
    try {
      await this.store.transaction(async (tx) => {
        await tx.vault.updatePan(record.id, protectedCard);
        await tx.audit.append({
          actor: input.actor ?? 'issuer',
          action: 'pan.updated',
          subject: record.id,
          details: { par: record.par, from: maskPan(input.currentPan), to: maskPan(input.newPan) },
        });
        for (const token of await tx.vault.findTokensByPar(record.par))
          await this.#raise(tx, token.requestorTrid, 'token.pan-updated', token.id, {
            lastFourOfCard: input.newPan.slice(-4),
          });
      });
    } catch (error) {
      if (error instanceof StoreError && error.code === 'ERR_STORE_DUPLICATE')
        throw new TokenServiceError('ERR_TSP_STATE', 'the new card number is already in the vault');
      throw error;
    }
    const tokens = await this.store.vault.findTokensByPar(record.par);
    return { par: record.par, tokens: tokens.length };
  }

  /** Card metadata (art, issuer name, terms) shared by every token of the card. */
  async setMetadata(
    tokenId: string,
    metadata: Readonly<Record<string, unknown>>,
    requestorTrid?: string,
  ): Promise<void> {
    const token = await this.#ownedToken(tokenId, requestorTrid);
    await this.store.cards.setMetadata(token.panRecordId, metadata);
  }

  async getMetadata(tokenId: string, requestorTrid?: string): Promise<Record<string, unknown>> {
    const token = await this.#ownedToken(tokenId, requestorTrid);
    return (await this.store.cards.getMetadata(token.panRecordId)) ?? {};
  }

  /** Key rotation: every data key wrapped under `fromKekId` moves to `toKekId`, in pages. */
  async rotateDataKeys(fromKekId: string, toKekId: string, pageSize = 200): Promise<number> {
    let moved = 0;
    let after = '';
    for (;;) {
      const page = await this.store.vault.listByWrappingKey(fromKekId, pageSize, after);
      if (page.length === 0) return moved;
      const updates = [];
      for (const row of page) {
        const wrapped = await this.hsm.rewrapDataKey({ fromKekId, toKekId, wrapped: row.wrappedDataKey });
        updates.push({ id: row.id, fromKeyId: fromKekId, toKeyId: toKekId, wrappedDataKey: wrapped });
      }
      moved += await this.store.vault.rewrap(updates);
      after = (page[page.length - 1] as { id: string }).id;
    }
  }

  // ---- Helpers ----

  async #requestor(trid: string): Promise<TokenRequestor> {
    if (!/^\d{11}$/.test(trid))
      throw new TokenServiceError('ERR_TSP_INPUT', 'a token requestor ID has 11 digits');
    const requestor = await this.store.requestors.get(trid);
    if (requestor === undefined)
      throw new TokenServiceError('ERR_TSP_REQUESTOR_UNKNOWN', 'the token requestor is not registered');
    return requestor;
  }

  async #ownedToken(tokenId: string, requestorTrid: string | undefined): Promise<TokenRecord> {
    const token = await this.store.vault.getToken(tokenId);
    if (token === undefined || (requestorTrid !== undefined && token.requestorTrid !== requestorTrid))
      throw new TokenServiceError('ERR_TSP_NOT_FOUND', 'no such token');
    return token;
  }

  async #panRecordOf(token: TokenRecord): Promise<PanRecord> {
    const record = await this.store.vault.getPanRecord(token.panRecordId);
    if (record === undefined) throw new TokenServiceError('ERR_TSP_INTERNAL', 'a token lost its PAN record');
    return record;
  }

  async #viewOf(token: TokenRecord): Promise<TokenView> {
    const [record, card] = await Promise.all([
      this.store.vault.getPanRecord(token.panRecordId),
      this.store.cards.get(token.id),
    ]);
    return tokenViewOf(token, record?.par ?? '', card?.provisioning ?? 'pending');
  }

  #cardExpired(expiry: string): boolean {
    const now = this.world.now();
    const yy = now.getUTCFullYear() % 100;
    const mm = now.getUTCMonth() + 1;
    const cardYy = Number(expiry.slice(0, 2));
    const cardMm = Number(expiry.slice(2, 4));
    return cardYy < yy || (cardYy === yy && cardMm < mm);
  }

  /** Token expiry (YYMM): issuance plus the validity, never after the card's own expiry. */
  #tokenExpiry(cardExpiry: string): string {
    const now = this.world.now();
    const months = now.getUTCFullYear() * 12 + now.getUTCMonth() + (this.#options.tokenValidityMonths ?? 36);
    const candidate = `${String(Math.floor(months / 12) % 100).padStart(2, '0')}${String((months % 12) + 1).padStart(2, '0')}`;
    return candidate < cardExpiry ? candidate : cardExpiry;
  }

  async #raise(
    tx: Repositories,
    requestorTrid: string,
    eventType: string,
    tokenId: string,
    data: Record<string, unknown>,
  ): Promise<void> {
    await tx.webhooks.raise({
      id: this.#ids.next('evt'),
      requestorTrid,
      eventType,
      payload: { type: eventType, tokenId, at: this.world.now().toISOString(), data },
    });
  }
}
