import { toHex } from '@amulet/bytes';
import {
  encodeTokenData,
  Field,
  interchangeSpec,
  isContactlessChip,
  Mti,
  ResponseCode,
  responseTo,
  TokenDataId,
  text,
} from '@amulet/contracts';
import type { CryptogramVersionNumber } from '@amulet/emv';
import { type Hsm, isVerificationFailure } from '@amulet/hsm';
import { createMessage, type FieldValue, getText, getTlv, type Iso8583Message } from '@amulet/iso8583';
import { coveredTerminalTags, cryptogramData, type SupportedCvn } from '@amulet/secure-element';
import type { AuthorizationView, Store, TokenCard, TokenRecord } from '@amulet/store';
import type { TlvNode } from '@amulet/tlv';
import type { CardProtection } from './card-protection.ts';
import { tokenDataOf } from './idv.ts';
import type { World } from './world.ts';

/** Reason codes of a verdict (field 48 '04'), in the order they are checked. */
export const VerdictReason = {
  format: 'FORMAT',
  unknownToken: 'UNKNOWN_TOKEN',
  tokenNotActive: 'TOKEN_NOT_ACTIVE',
  atcReplay: 'ATC_REPLAY',
  cryptogram: 'CRYPTOGRAM_INVALID',
  tokenExpired: 'TOKEN_EXPIRED',
  posEntryMode: 'DOMAIN_POS_ENTRY_MODE',
  requestor: 'DOMAIN_REQUESTOR',
  device: 'DOMAIN_DEVICE',
  amountMismatch: 'AMOUNT_MISMATCH',
  cvmRequired: 'CVM_REQUIRED',
  statusChanged: 'TOKEN_STATUS_CHANGED',
  /** A reversal's chip data names no authorization this service approved. */
  originalNotFound: 'ORIGINAL_NOT_FOUND',
  /** Not a decline: the ATC jumped more than the window above the high-water mark. */
  atcJump: 'ATC_JUMP',
} as const;

/** The field 39 answer of each declining reason. */
const responseCodeOf: Readonly<Record<string, string>> = {
  FORMAT: ResponseCode.formatError,
  UNKNOWN_TOKEN: ResponseCode.invalidCardNumber,
  TOKEN_NOT_ACTIVE: ResponseCode.restrictedCard,
  TOKEN_STATUS_CHANGED: ResponseCode.restrictedCard,
  ATC_REPLAY: ResponseCode.cryptogramFailure,
  CRYPTOGRAM_INVALID: ResponseCode.cryptogramFailure,
  TOKEN_EXPIRED: ResponseCode.expiredCard,
  DOMAIN_POS_ENTRY_MODE: ResponseCode.transactionNotPermittedToCardholder,
  DOMAIN_REQUESTOR: ResponseCode.transactionNotPermittedToCardholder,
  DOMAIN_DEVICE: ResponseCode.transactionNotPermittedToCardholder,
  AMOUNT_MISMATCH: ResponseCode.invalidAmount,
  CVM_REQUIRED: ResponseCode.additionalAuthenticationRequired,
  ORIGINAL_NOT_FOUND: ResponseCode.originalNotFound,
};

export interface AuthorizerOptions {
  readonly store: Store;
  readonly hsm: Hsm;
  readonly cards: CardProtection;
  readonly world: World;
  /** Above this amount (minor units) a tap needs the consumer device CVM; default 5000. */
  readonly cvmLimit?: number;
  /** An ATC more than this above the high-water mark is flagged; default 100. */
  readonly atcWindow?: number;
}

export type AuthorizationVerdict =
  | {
      readonly approved: true;
      readonly view: AuthorizationView;
      readonly pan: string;
      readonly expiry: string;
      readonly flags: readonly string[];
    }
  | {
      readonly approved: false;
      readonly responseCode: string;
      readonly reasons: readonly string[];
      readonly tokenId?: string;
    };

/** Fields echoed from the request into the response (ISO 8583:1987 clause 4.3, "mandatory echo"). */
const ECHOED = [3, 4, 7, 11, 12, 13, 32, 37, 41, 42, 49] as const;
/** A reversal's answer echoes the same and the original data elements (90). */
const REVERSAL_ECHOED = [...ECHOED, Field.originalDataElements];

interface IccData {
  readonly arqc: Uint8Array;
  readonly atc: Uint8Array;
  readonly iad: Uint8Array;
  readonly aip: Uint8Array;
  readonly terminal: Map<string, Uint8Array>;
}

/** The tags a validation reads from field 55: the cryptogram's inputs and the terminal data it covers. */
const ICC_TAGS: ReadonlySet<string> = new Set(['9F26', '9F36', '9F10', '82', ...coveredTerminalTags]);

/**
 * The first value of each wanted tag, depth-first in document order (what `findTag` returns for
 * each), found in one walk of the field 55 tree instead of one walk per tag.
 */
function collectTags(nodes: readonly TlvNode[], into: Map<string, Uint8Array | undefined>): void {
  for (const node of nodes) {
    if (ICC_TAGS.has(node.tag) && !into.has(node.tag)) into.set(node.tag, node.value);
    if (node.children !== undefined) collectTags(node.children, into);
  }
}

function iccDataOf(nodes: readonly TlvNode[]): IccData | undefined {
  const found = new Map<string, Uint8Array | undefined>();
  collectTags(nodes, found);
  const arqc = found.get('9F26');
  const atc = found.get('9F36');
  const iad = found.get('9F10');
  const aip = found.get('82');
  if (arqc?.length !== 8 || atc?.length !== 2 || iad === undefined || aip?.length !== 2) return undefined;
  const terminal = new Map<string, Uint8Array>();
  for (const tag of coveredTerminalTags) {
    const v = found.get(tag);
    if (v !== undefined) terminal.set(tag, v);
  }
  return { arqc, atc, iad, aip, terminal };
}

/** The CVN byte inside the IAD and the CVR byte whose b8 says CDCVM was performed (docs/secure-element.md). */
function iadLayout(cvn: number): { cvnAt: number; cvnValue: number; cdcvmAt: number } | undefined {
  if (cvn === 18) return { cvnAt: 2, cvnValue: 0x12, cdcvmAt: 6 };
  if (cvn === 22) return { cvnAt: 1, cvnValue: 0x22, cdcvmAt: 5 };
  if (cvn === 17) return { cvnAt: 1, cvnValue: 0x11, cdcvmAt: 5 };
  return undefined;
}

function bcdNumber(bytes: Uint8Array | undefined): number | undefined {
  if (bytes === undefined) return undefined;
  const hex = toHex(bytes);
  return /^\d+$/.test(hex) ? Number(hex) : undefined;
}

/**
 * Detokenization and validation: the network's question on every tap (issue 6, DESIGN.md flow 5).
 * Checks run in a fixed order: format, token, status, ATC replay, cryptogram (in the HSM), then
 * expiry, domain, amount and CVM; the ATC high-water mark and the verdict are committed in one
 * transaction that re-reads the token's status (invariants 5 and 6).
 */
export class Authorizer {
  readonly #options: AuthorizerOptions;
  readonly #cvmLimit: number;
  readonly #atcWindow: number;

  constructor(options: AuthorizerOptions) {
    this.#options = options;
    this.#cvmLimit = options.cvmLimit ?? 5000;
    this.#atcWindow = options.atcWindow ?? 100;
  }

  async authorize(request: Iso8583Message): Promise<Iso8583Message> {
    return this.respond(request, await this.evaluate(request));
  }

  async evaluate(request: Iso8583Message): Promise<AuthorizationVerdict> {
    const refuse = (reasons: string[], tokenId?: string): AuthorizationVerdict => ({
      approved: false,
      responseCode: responseCodeOf[reasons[0] ?? 'FORMAT'] ?? ResponseCode.doNotHonour,
      reasons,
      ...(tokenId === undefined ? {} : { tokenId }),
    });
    let dpan: string | undefined;
    let tokenData: Map<string, string>;
    let icc: IccData | undefined;
    let posEntryMode: string | undefined;
    let amountText: string | undefined;
    let expiryText: string | undefined;
    try {
      dpan = getText(request, Field.pan);
      posEntryMode = getText(request, Field.posEntryMode);
      amountText = getText(request, Field.amount);
      expiryText = getText(request, Field.expiry);
      tokenData = tokenDataOf(request);
      const nodes = getTlv(request, Field.iccData);
      icc = nodes === undefined ? undefined : iccDataOf(nodes);
    } catch {
      return refuse([VerdictReason.format]);
    }
    if (dpan === undefined || !/^\d{13,19}$/.test(dpan) || icc === undefined || amountText === undefined)
      return refuse([VerdictReason.format]);

    const { store } = this.#options;
    const view = await store.cards.authorizationView(dpan);
    if (view === undefined) return refuse([VerdictReason.unknownToken]);
    const { token, card } = view;
    if (token.status !== 'active' || card.provisioning !== 'confirmed')
      return refuse([VerdictReason.tokenNotActive], token.id);

    // A replayed ATC is refused at the commit below (compare-and-set on the high-water mark), so
    // the hot path reads no mark first; a cryptogram that fails consumes nothing.
    const atc = ((icc.atc[0] ?? 0) << 8) | (icc.atc[1] ?? 0);

    const layout = await this.#cryptogramLayout(token, card, icc);
    if (layout === undefined) return refuse([VerdictReason.cryptogram], token.id);

    const reasons: string[] = [];
    const now = this.#options.world.now();
    const yymm = `${String(now.getUTCFullYear() % 100).padStart(2, '0')}${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
    if (token.tokenExpiry < yymm || (expiryText !== undefined && expiryText !== token.tokenExpiry))
      reasons.push(VerdictReason.tokenExpired);
    if (!isContactlessChip(posEntryMode)) reasons.push(VerdictReason.posEntryMode);
    const requestor = tokenData.get(TokenDataId.tokenRequestorId);
    if (requestor !== undefined && requestor !== token.requestorTrid) reasons.push(VerdictReason.requestor);
    const device = tokenData.get(TokenDataId.deviceId);
    if (device !== undefined && device !== token.device.certificateFingerprint)
      reasons.push(VerdictReason.device);
    const amount = Number(amountText);
    const iccAmount = bcdNumber(icc.terminal.get('9F02'));
    if (iccAmount !== amount) reasons.push(VerdictReason.amountMismatch);
    const cdcvm = ((icc.iad[layout.cdcvmAt] ?? 0) & 0x80) !== 0;
    if (amount > this.#cvmLimit && !cdcvm) reasons.push(VerdictReason.cvmRequired);

    // One transaction: status re-read, ATC mark raised (compare-and-set), verdict stored.
    const committed = await store.atc.commit({
      tokenId: token.id,
      atc,
      verdict: reasons.length === 0 ? 'approved' : 'declined',
      reasons,
      expectedStatusVersion: token.statusVersion,
    });
    if (committed.kind === 'replay') return refuse([VerdictReason.atcReplay], token.id);
    if (committed.verdict === 'declined') return refuse([...committed.reasons], token.id);
    const previous = committed.previousHighWater;
    const flags = previous >= 0 && atc - previous > this.#atcWindow ? [VerdictReason.atcJump] : [];
    const secret = await this.#options.cards.reveal(view.panRecord);
    return { approved: true, view, pan: secret.pan, expiry: secret.expiry, flags };
  }

  /**
   * The cryptogram, recomputed in the HSM over the data field 55 carries (EMV Book 2 8.1): the
   * IAD's layout when it verifies, undefined when it does not.
   */
  async #cryptogramLayout(
    token: TokenRecord,
    card: TokenCard,
    icc: IccData,
  ): Promise<ReturnType<typeof iadLayout>> {
    const layout = iadLayout(card.cvn);
    if (layout === undefined || icc.iad[layout.cvnAt] !== layout.cvnValue) return undefined;
    try {
      const un = icc.terminal.get('9F37');
      await this.#options.hsm.verifyArqc({
        imkId: card.imkKeyId,
        cvn: card.cvn as CryptogramVersionNumber,
        pan: token.dpan,
        psn: card.psn,
        atc: icc.atc,
        ...(un === undefined ? {} : { unpredictableNumber: un }),
        data: cryptogramData(card.cvn as SupportedCvn, icc.terminal, icc.aip, icc.atc, icc.iad),
        arqc: icc.arqc,
      });
      return layout;
    } catch (error) {
      if (isVerificationFailure(error)) return undefined;
      throw error;
    }
  }

  /**
   * A reversal (0400, 0420 or 0421) that the network can no longer route by itself (its route
   * forgotten in a restart or expired), or a stand-in advice (0120, 0121) the network kept without
   * the real PAN across a restart: the real PAN and expiry it needs to reach the issuer, answered
   * (0410, 0430 or 0130, field 39 '00') only for an authorization this service approved. Field 55
   * must carry the original's chip data: its cryptogram must verify for the token and its ATC must
   * have an approved verdict, so the port never turns a DPAN alone into a PAN. A reversal must name
   * its original (field 90). The token's status does not matter (an approval made before a
   * suspension is still reversed or advised); the ATC stays consumed, and each answer found is an
   * audit entry. docs/token-service.md, "Reversals and advices".
   */
  async locateOriginal(request: Iso8583Message): Promise<Iso8583Message> {
    const advice = request.mti === Mti.authorizationAdvice || request.mti === Mti.authorizationAdviceRepeat;
    const refuse = (reason: string, tokenId?: string) =>
      responseTo(request, REVERSAL_ECHOED, {
        [Field.pan]: /^\d{1,19}$/.test(text(request, Field.pan)) ? text(request, Field.pan) : undefined,
        [Field.responseCode]: responseCodeOf[reason] ?? ResponseCode.doNotHonour,
        [Field.additionalDataPrivate]: encodeTokenData([
          ...(tokenId === undefined ? [] : [[TokenDataId.tokenReference, tokenId] as const]),
          [TokenDataId.verdictReasons, reason],
        ]),
      });
    let icc: IccData | undefined;
    const dpan = text(request, Field.pan);
    try {
      const nodes = getTlv(request, Field.iccData);
      icc = nodes === undefined ? undefined : iccDataOf(nodes);
    } catch {
      return refuse(VerdictReason.format);
    }
    if (
      !/^\d{13,19}$/.test(dpan) ||
      icc === undefined ||
      (!advice && !/^\d{42}$/.test(text(request, Field.originalDataElements)))
    )
      return refuse(VerdictReason.format);
    const { store, cards } = this.#options;
    const view = await store.cards.authorizationView(dpan);
    if (view === undefined) return refuse(VerdictReason.unknownToken);
    const { token, card } = view;
    if ((await this.#cryptogramLayout(token, card, icc)) === undefined)
      return refuse(VerdictReason.cryptogram, token.id);
    const atc = ((icc.atc[0] ?? 0) << 8) | (icc.atc[1] ?? 0);
    const verdict = await store.atc.verdict(token.id, atc);
    if (verdict?.verdict !== 'approved') return refuse(VerdictReason.originalNotFound, token.id);
    // A PAN revealed without an authorization of its own is on the record (DESIGN invariant 10).
    await store.audit.append({
      actor: 'network',
      action: advice ? 'advice.located' : 'reversal.located',
      subject: token.id,
      details: advice ? { atc } : { atc, original: text(request, Field.originalDataElements) },
    });
    const secret = await cards.reveal(view.panRecord);
    return responseTo(request, REVERSAL_ECHOED, {
      [Field.pan]: secret.pan,
      [Field.expiry]: secret.expiry,
      [Field.responseCode]: ResponseCode.approved,
      [Field.additionalDataPrivate]: encodeTokenData([
        [TokenDataId.tokenReference, token.id],
        [TokenDataId.par, view.panRecord.par],
      ]),
    });
  }

  /** The 0110 for a verdict (docs/token-service.md, "Detokenization"). */
  respond(request: Iso8583Message, verdict: AuthorizationVerdict): Iso8583Message {
    const fields = new Map<number, FieldValue>();
    for (const n of ECHOED) {
      const value = request.fields.get(n);
      if (value !== undefined) fields.set(n, value);
    }
    if (verdict.approved) {
      const { token, panRecord } = verdict.view;
      fields.set(Field.pan, verdict.pan);
      fields.set(Field.expiry, verdict.expiry);
      fields.set(Field.responseCode, ResponseCode.approved);
      const data: [string, string][] = [
        [TokenDataId.tokenReference, token.id],
        [TokenDataId.par, panRecord.par],
        [TokenDataId.tokenRequestorId, token.requestorTrid],
        [TokenDataId.deviceId, token.device.certificateFingerprint],
        [TokenDataId.tokenLastFour, token.dpan.slice(-4)],
        [TokenDataId.assuranceMethod, token.assuranceMethod],
      ];
      if (verdict.flags.length > 0) data.push([TokenDataId.verdictReasons, verdict.flags.join(',')]);
      fields.set(Field.additionalDataPrivate, encodeTokenData(data));
    } else {
      const dpan = request.fields.get(Field.pan);
      if (typeof dpan === 'string' && /^\d{1,19}$/.test(dpan)) fields.set(Field.pan, dpan);
      fields.set(Field.responseCode, verdict.responseCode);
      const data: [string, string][] = [];
      if (verdict.tokenId !== undefined) data.push([TokenDataId.tokenReference, verdict.tokenId]);
      data.push([TokenDataId.verdictReasons, verdict.reasons.join(',').slice(0, 99)]);
      fields.set(Field.additionalDataPrivate, encodeTokenData(data));
    }
    return createMessage(interchangeSpec, Mti.authorizationResponse, fields);
  }
}
