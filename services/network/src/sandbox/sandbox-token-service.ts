import { fromHex, toHex } from '@amulet/bytes';
import {
  encodeTokenData,
  Field,
  isContactlessChip,
  ResponseCode,
  responseTo,
  TokenDataId,
  text,
} from '@amulet/contracts';
import { verifyCryptogram } from '@amulet/emv';
import type { Iso8583Message } from '@amulet/iso8583';
import { cryptogramData, type SupportedCvn } from '@amulet/secure-element';
import type { TlvNode } from '@amulet/tlv';

/** One token the sandbox token service knows: the DPAN, the real card behind it, and its key. */
export interface SandboxToken {
  readonly dpan: string;
  readonly realPan: string;
  /** YYMM. */
  readonly realExpiry: string;
  readonly cvn: SupportedCvn;
  readonly psn: string;
  /** Issuer master key for application cryptograms (the sandbox cards' published IMKs). */
  readonly imk: Uint8Array;
  readonly tokenReference: string;
  readonly par: string;
  readonly requestorId: string;
  readonly deviceId: string;
  status: 'active' | 'suspended';
}

/** Fields the token service echoes in its 0110. */
const echo = [2, 3, 4, 7, 11, 12, 13, 32, 37, 41, 42, 49];

function iccValue(nodes: readonly TlvNode[], tag: string): Uint8Array | undefined {
  return nodes.find((node) => node.tag === tag)?.value;
}

/**
 * A small token service that follows the detokenize-and-validate contract (docs/network.md):
 * it answers the network's 0100 with 39 '00', the real PAN (2), its expiry (14) and token data
 * (48), or refuses with '14' (unknown token), '62' (suspended), '57' (not contactless chip),
 * '82' (cryptogram or ATC) and reasons in 48 '04'. The ATC must rise (EMV Book 2, replay) and
 * the cryptogram is recomputed with @amulet/emv over field 55 the way the secure element made it.
 * A stand-in for the real token service in tests and benchmarks; keeps everything in memory.
 */
export class SandboxTokenService {
  readonly #tokens = new Map<string, SandboxToken>();
  readonly #highWater = new Map<string, number>();
  validations = 0;

  constructor(tokens: readonly SandboxToken[]) {
    for (const token of tokens) this.#tokens.set(token.dpan, token);
  }

  token(dpan: string): SandboxToken | undefined {
    return this.#tokens.get(dpan);
  }

  readonly handle = (request: Iso8583Message): Iso8583Message | undefined => {
    if (request.mti !== '0100') return undefined;
    this.validations++;
    const refuse = (code: string, reason: string) =>
      responseTo(request, echo, {
        [Field.responseCode]: code,
        [Field.additionalDataPrivate]: encodeTokenData([[TokenDataId.verdictReasons, reason]]),
      });
    const token = this.#tokens.get(text(request, Field.pan));
    if (token === undefined) return refuse(ResponseCode.invalidCardNumber, 'TOKEN_UNKNOWN');
    if (token.status !== 'active') return refuse(ResponseCode.restrictedCard, 'TOKEN_NOT_ACTIVE');
    if (!isContactlessChip(text(request, Field.posEntryMode)))
      return refuse(ResponseCode.transactionNotPermittedToCardholder, 'DOMAIN_POS_ENTRY_MODE');
    const icc = request.fields.get(Field.iccData);
    if (!Array.isArray(icc)) return refuse(ResponseCode.cryptogramFailure, 'ICC_DATA_MISSING');
    const nodes = icc as readonly TlvNode[];
    const atc = iccValue(nodes, '9F36');
    const cryptogram = iccValue(nodes, '9F26');
    const iad = iccValue(nodes, '9F10');
    const aip = iccValue(nodes, '82');
    const un = iccValue(nodes, '9F37');
    const amount = iccValue(nodes, '9F02');
    if (
      atc?.length !== 2 ||
      cryptogram === undefined ||
      iad === undefined ||
      aip === undefined ||
      un === undefined
    )
      return refuse(ResponseCode.cryptogramFailure, 'ICC_DATA_MISSING');
    if (amount === undefined || Number(toHex(amount)) !== Number(text(request, Field.amount)))
      return refuse(ResponseCode.cryptogramFailure, 'AMOUNT_MISMATCH');
    const atcNumber = (atc[0]! << 8) | atc[1]!;
    if (atcNumber <= (this.#highWater.get(token.dpan) ?? 0))
      return refuse(ResponseCode.cryptogramFailure, 'ATC_REPLAY');
    const terminal = new Map<string, Uint8Array>();
    for (const tag of ['9F02', '9F03', '9F1A', '95', '5F2A', '9A', '9C', '9F37']) {
      const value = iccValue(nodes, tag);
      if (value !== undefined) terminal.set(tag, value);
    }
    let valid = false;
    try {
      valid = verifyCryptogram({
        cvn: token.cvn,
        imk: token.imk,
        pan: token.dpan,
        psn: token.psn,
        atc,
        data: cryptogramData(token.cvn, terminal, aip, atc, iad),
        unpredictableNumber: un,
        cryptogram,
      });
    } catch {
      valid = false;
    }
    if (!valid) return refuse(ResponseCode.cryptogramFailure, 'CRYPTOGRAM_INVALID');
    this.#highWater.set(token.dpan, atcNumber);
    return responseTo(request, echo, {
      [Field.pan]: token.realPan,
      [Field.expiry]: token.realExpiry,
      [Field.responseCode]: ResponseCode.approved,
      [Field.additionalDataPrivate]: encodeTokenData([
        [TokenDataId.tokenReference, token.tokenReference],
        [TokenDataId.par, token.par],
        [TokenDataId.tokenRequestorId, token.requestorId],
        [TokenDataId.deviceId, token.deviceId],
        [TokenDataId.tokenLastFour, token.dpan.slice(-4)],
        [TokenDataId.assuranceMethod, '10'],
      ]),
    });
  };
}

/** Hex helper for sandbox configuration. */
export const sandboxKey = fromHex;
