import { createHash } from 'node:crypto';
import { type DecodedCommandApdu, decodeCommandApdu, StatusWord } from '@amulet/apdu';
import { constantTimeEqual, fromHex, isAmuletError, toHex } from '@amulet/bytes';
import { deriveIccMasterKey } from '@amulet/emv';
import { encodeTlv, splitDolData } from '@amulet/tlv';
import { cplc, ISD_AID, isdFci, statusEntries } from './card-manager.ts';
import {
  type AcType,
  AFL,
  AIP,
  applicationFci,
  applicationRecord,
  bcdAmount,
  CTQ_CDCVM,
  cardCryptogram,
  cidFor,
  cryptogramData,
  issuerApplicationData,
  mchipCdol1,
  PPSE_NAME,
  ppseFci,
  qvsdcPdol,
  track2,
  twoBytes,
} from './payment-applet.ts';
import { Scp03CardSession, type Scp03Keys } from './scp03.ts';
import {
  type BlobStore,
  type MonotonicCounter,
  memoryBlobStore,
  memoryCounter,
  seal,
  unseal,
} from './sealed-storage.ts';
import { SecureElementError } from './secure-element-error.ts';
import {
  baseAids,
  emptyState,
  type Profile,
  profileCvns,
  type SeState,
  type SupportedCvn,
  type TokenRecord,
  type TokenStatus,
} from './state.ts';

/** Status words this SE answers with a meaning of its own (documented in docs/secure-element.md). */
export const SeStatus = {
  /** The token is suspended: no cryptogram. */
  TOKEN_SUSPENDED: StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED,
  /** The wearer's PIN try counter is at zero: payments blocked until re-enrollment. */
  PIN_BLOCKED: StatusWord.AUTHENTICATION_METHOD_BLOCKED,
  /** Sealed storage failed its checks: the SE refuses every command. */
  TAMPERED: StatusWord.MEMORY_FAILURE,
} as const;

export const MAX_TOKENS = 8;
export const PIN_TRIES = 5;

/** A CDCVM session ends at the first limit reached, or when the wearable leaves the wrist. */
export interface CdcvmPolicy {
  readonly durationMs: number;
  readonly maxTaps: number;
  /** Cumulative amount authorised, in minor units, over the session's taps. */
  readonly maxAmount: number;
}

export const defaultCdcvmPolicy: CdcvmPolicy = { durationMs: 5 * 60_000, maxTaps: 10, maxAmount: 100_000 };

export interface SecureElementOptions {
  /** The device-unique key that seals storage, 32 bytes (a real SE derives it from fused secrets). */
  readonly deviceKey: Uint8Array;
  readonly rng: (n: number) => Uint8Array;
  /** Milliseconds; only differences are used. */
  readonly clock: () => number;
  readonly blobs?: BlobStore;
  readonly counter?: MonotonicCounter;
  readonly cdcvmPolicy?: CdcvmPolicy;
  /** The ISD's static SCP03 keys; without them the card manager has no secure channel. */
  readonly scp03?: Scp03Keys & { readonly kvn: number };
}

/** What the issuer (or the sandbox) loads into one payment applet instance. */
export interface TokenPersonalization {
  readonly id: string;
  readonly profile: Profile;
  readonly cvn: SupportedCvn;
  readonly label: string;
  readonly pan: string;
  /** YYMMDD. */
  readonly expiry: string;
  readonly psn: string;
  /** The ICC master key (MK-AC), or the issuer master key to derive it from (EMV Book 2 A1.4.1 option A). */
  readonly mkAc?: Uint8Array;
  readonly imk?: Uint8Array;
  readonly keyDerivationIndex?: number;
  readonly atc?: number;
}

export type PinResult =
  | { readonly status: 'verified'; readonly triesLeft: number }
  | { readonly status: 'wrong'; readonly triesLeft: number }
  | { readonly status: 'blocked' | 'not-enrolled'; readonly triesLeft: 0 };

/**
 * What the wearable's own firmware (PIN pad on the companion phone, wrist sensor) may ask of the
 * SE. It is not reachable over the contactless interface.
 */
export interface WearerInterface {
  enrollPin(pin: string): void;
  verifyPin(pin: string): PinResult;
  wristOff(): void;
  readonly pinTriesLeft: number | undefined;
}

export interface TokenInfo {
  readonly id: string;
  readonly profile: Profile;
  readonly aid: string;
  readonly status: TokenStatus;
  readonly atc: number;
}

interface CdcvmSession {
  readonly start: number;
  taps: number;
  amount: number;
}

interface Selection {
  readonly kind: 'ppse' | 'applet' | 'isd';
  readonly token?: TokenRecord;
  /** For M/Chip: GET PROCESSING OPTIONS done, GENERATE AC not yet. */
  processing?: boolean;
}

const respond = (sw: number, data?: Uint8Array): Uint8Array => {
  const out = new Uint8Array((data?.length ?? 0) + 2);
  if (data !== undefined) out.set(data, 0);
  out[out.length - 2] = sw >> 8;
  out[out.length - 1] = sw & 0xff;
  return out;
};

const PIN_PATTERN = /^[0-9]{4,12}$/;

/**
 * The secure element: APDUs in, APDUs out (ISO/IEC 7816-4), over the contactless interface, and
 * a separate wearer interface (`wearer`) that the wearable's own firmware reaches and a reader
 * never can. Every state change is sealed and saved before the response leaves.
 */
export class SecureElement {
  readonly #options: SecureElementOptions;
  readonly #blobs: BlobStore;
  readonly #counter: MonotonicCounter;
  readonly #policy: CdcvmPolicy;
  #state: SeState = emptyState();
  #tamper: string | undefined;
  #selection: Selection | undefined;
  #session: CdcvmSession | undefined;
  #scp: Scp03CardSession | undefined;
  #secured = false;

  private constructor(options: SecureElementOptions) {
    this.#options = options;
    this.#blobs = options.blobs ?? memoryBlobStore();
    this.#counter = options.counter ?? memoryCounter();
    this.#policy = options.cdcvmPolicy ?? defaultCdcvmPolicy;
  }

  /** Opens the SE from its storage; a missing, altered or rolled-back blob leaves it tampered. */
  static open(options: SecureElementOptions): SecureElement {
    if (!(options.deviceKey instanceof Uint8Array) || options.deviceKey.length !== 32)
      throw new SecureElementError('ERR_SE_KEY', 'the device key must be 32 bytes');
    const se = new SecureElement(options);
    se.#load();
    return se;
  }

  /** Undefined when healthy; otherwise why the SE refuses to operate. */
  get tamper(): string | undefined {
    return this.#tamper;
  }

  #load(): void {
    const expected = this.#counter.read();
    const blob = this.#blobs.read();
    if (blob === undefined) {
      if (expected !== 0) this.#tamper = 'sealed storage is missing';
      return;
    }
    try {
      const { version, plaintext } = unseal(this.#options.deviceKey, blob);
      // The monotonic counter names the newest version; an older one is a copy put back.
      if (version < expected) {
        this.#tamper = 'sealed storage is older than the monotonic counter';
        return;
      }
      if (version > expected) this.#counter.advance(version); // a save interrupted before the counter moved
      this.#state = JSON.parse(new TextDecoder().decode(plaintext)) as SeState;
    } catch {
      this.#tamper = 'sealed storage failed authentication';
    }
  }

  /** Seals the state under the next version, writes it, then raises the counter. */
  #commit(): void {
    const version = this.#counter.read() + 1;
    const plaintext = new TextEncoder().encode(JSON.stringify(this.#state));
    this.#blobs.write(seal(this.#options.deviceKey, version, plaintext, this.#options.rng(12)));
    this.#counter.advance(version);
  }

  #live(): TokenRecord[] {
    const byId = new Map(this.#state.tokens.map((t) => [t.id, t]));
    return this.#state.order.map((id) => byId.get(id)).filter((t): t is TokenRecord => t !== undefined);
  }

  /** One command APDU in, one response APDU out; never throws. */
  transmit(apdu: Uint8Array): Uint8Array {
    try {
      if (this.#tamper !== undefined) return respond(SeStatus.TAMPERED);
      return this.#dispatch(apdu);
    } catch {
      return respond(StatusWord.NO_PRECISE_DIAGNOSIS);
    }
  }

  #dispatch(bytes: Uint8Array): Uint8Array {
    let command: DecodedCommandApdu;
    try {
      command = decodeCommandApdu(bytes);
    } catch (error) {
      if (isAmuletError(error) && error.code === 'ERR_APDU_INS') return respond(StatusWord.INS_NOT_SUPPORTED);
      return respond(StatusWord.WRONG_LENGTH);
    }
    // Limits: short APDUs only (Nc at most 255).
    if (command.extended) return respond(StatusWord.WRONG_LENGTH);
    const cla = command.cla;
    if (this.#selection?.kind === 'isd' && this.#options.scp03 !== undefined && !this.#secured) {
      if (cla === 0x80 && command.ins === 0x50) return this.#initializeUpdate(command);
      if (cla === 0x84 && command.ins === 0x82) return this.#externalAuthenticate(bytes);
      if (cla === 0x84) return this.#securedCommand(bytes);
    }
    // ISO/IEC 7816-4 5.4.1: only the basic channel, no secure messaging, no chaining.
    if (cla === 0xff || (cla & 0x60) !== 0) return respond(StatusWord.CLA_NOT_SUPPORTED);
    if ((cla & 0x03) !== 0) return respond(StatusWord.LOGICAL_CHANNEL_NOT_SUPPORTED);
    if ((cla & 0x0c) !== 0) return respond(StatusWord.SECURE_MESSAGING_NOT_SUPPORTED);
    if ((cla & 0x10) !== 0) return respond(StatusWord.COMMAND_CHAINING_NOT_SUPPORTED);
    const proprietary = (cla & 0x80) !== 0;
    const key = `${proprietary ? '8' : '0'}${command.ins.toString(16).padStart(2, '0').toUpperCase()}`;
    let response: Uint8Array;
    switch (key) {
      case '0A4':
        response = this.#select(command);
        break;
      case '8A8':
        response = this.#getProcessingOptions(command);
        break;
      case '0B2':
        response = this.#readRecord(command);
        break;
      case '8AE':
        response = this.#generateAc(command);
        break;
      case '0CA':
      case '8CA':
        response = this.#getData(command);
        break;
      case '8F2':
        response = this.#getStatus(command);
        break;
      default:
        if (['A4', 'A8', 'B2', 'AE', 'F2'].includes(key.slice(1)))
          return respond(StatusWord.CLA_NOT_SUPPORTED);
        return respond(StatusWord.INS_NOT_SUPPORTED);
    }
    // ISO/IEC 7816-4 5.3.3: a short Ne smaller than the data available answers 6CXX.
    const available = response.length - 2;
    if (command.le !== undefined && available > command.le && response[available] === 0x90) {
      return respond(0x6c00 | (available & 0xff));
    }
    return response;
  }

  /** SELECT by DF name (ISO/IEC 7816-4 11.1.1): P1 04; P2 00 first or only, 02 next occurrence. */
  #select(command: DecodedCommandApdu): Uint8Array {
    if (command.p1 !== 0x04 || (command.p2 !== 0x00 && command.p2 !== 0x02))
      return respond(StatusWord.INCORRECT_P1_P2);
    const name = command.data;
    if (name === undefined || name.length < 1 || name.length > 16) return respond(StatusWord.WRONG_LENGTH);
    this.#selection = undefined;
    this.#scp = undefined;
    if (name.length === ISD_AID.length && ISD_AID.every((b, i) => name[i] === b)) {
      this.#selection = { kind: 'isd' };
      return respond(StatusWord.SUCCESS, isdFci());
    }
    if (name.length === PPSE_NAME.length && PPSE_NAME.every((b, i) => name[i] === b)) {
      this.#selection = { kind: 'ppse' };
      return respond(StatusWord.SUCCESS, ppseFci(this.#live()));
    }
    const hex = toHex(name);
    // Partial selection: the name may be the start of an ADF name; P2 02 moves past the previous match.
    const live = this.#live();
    const matches = live.filter((t) => t.aid.startsWith(hex));
    const previous = command.p2 === 0x02 ? this.#lastPartial : undefined;
    const start = previous === undefined ? 0 : matches.findIndex((t) => t.id === previous) + 1;
    const token = matches[start];
    if (token === undefined) return respond(StatusWord.FILE_NOT_FOUND);
    this.#lastPartial = token.id;
    this.#selection = { kind: 'applet', token };
    return respond(StatusWord.SUCCESS, applicationFci(token, live.indexOf(token) + 1));
  }

  #lastPartial: string | undefined;

  /** Checks shared by GPO and GENERATE AC: an active token and payments not blocked by the PIN. */
  #paymentRefusal(token: TokenRecord): number | undefined {
    if (token.status === 'suspended') return SeStatus.TOKEN_SUSPENDED;
    if (token.status !== 'active') return StatusWord.FILE_NOT_FOUND;
    if (this.#state.pin !== undefined && this.#state.pin.tries === 0) return SeStatus.PIN_BLOCKED;
    return undefined;
  }

  /** GET PROCESSING OPTIONS (EMV Book 3 6.5.8): data is '83' L PDOL-data. */
  #getProcessingOptions(command: DecodedCommandApdu): Uint8Array {
    if (command.p1 !== 0 || command.p2 !== 0) return respond(StatusWord.INCORRECT_P1_P2);
    const token = this.#selection?.token;
    if (token === undefined) return respond(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED);
    const data = command.data;
    if (data === undefined || data.length < 2 || data[0] !== 0x83 || data[1] !== data.length - 2)
      return respond(StatusWord.WRONG_DATA);
    const pdolData = data.subarray(2);
    const refusal = this.#paymentRefusal(token);
    if (refusal !== undefined) return respond(refusal);
    // The ATC is never reused: at FFFF the applet makes no more cryptograms.
    if (token.atc >= 0xffff) return respond(SeStatus.TOKEN_SUSPENDED);
    if (token.profile === 'mchip') {
      if (pdolData.length !== 0) return respond(StatusWord.WRONG_LENGTH);
      token.atc += 1;
      this.#commit();
      this.#selection = { kind: 'applet', token, processing: true };
      // Format 1 (EMV Book 3 6.5.8.4): AIP || AFL.
      return respond(StatusWord.SUCCESS, encodeTlv([{ tag: '80', value: new Uint8Array([...AIP, ...AFL]) }]));
    }
    let values: Map<string, Uint8Array>;
    try {
      values = splitDolData(qvsdcPdol, pdolData);
    } catch {
      return respond(StatusWord.WRONG_LENGTH);
    }
    const amount = bcdAmount(values.get('9F02'));
    if (amount === undefined) return respond(StatusWord.WRONG_DATA);
    // The ATC moves, and is saved, before the cryptogram exists.
    token.atc += 1;
    const cdcvm = this.#useCdcvm(amount);
    this.#commit();
    const atc = twoBytes(token.atc);
    const iad = issuerApplicationData(token, cdcvm, 'arqc');
    const un = values.get('9F37') ?? new Uint8Array(4);
    const ac = cardCryptogram(token, atc, cryptogramData(token.cvn, values, AIP, atc, iad), un);
    const ctq = new Uint8Array([0x00, cdcvm ? CTQ_CDCVM : 0x00]);
    return respond(
      StatusWord.SUCCESS,
      encodeTlv([
        {
          tag: '77',
          children: [
            { tag: '82', value: AIP },
            { tag: '94', value: AFL },
            { tag: '57', value: track2(token) },
            { tag: '5F34', value: fromHex(token.psn) },
            { tag: '9F10', value: iad },
            { tag: '9F26', value: ac },
            { tag: '9F27', value: new Uint8Array([cidFor('arqc')]) },
            { tag: '9F36', value: atc },
            { tag: '9F6C', value: ctq },
          ],
        },
      ]),
    );
  }

  /** READ RECORD (EMV Book 3 6.5.11): P1 record number, P2 SFI << 3 | 100. */
  #readRecord(command: DecodedCommandApdu): Uint8Array {
    const token = this.#selection?.token;
    if (token === undefined) return respond(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED);
    if ((command.p2 & 0x07) !== 0x04 || command.p1 === 0) return respond(StatusWord.INCORRECT_P1_P2);
    if (command.p2 >> 3 !== 1 || command.p1 !== 1) return respond(StatusWord.RECORD_NOT_FOUND);
    if (token.status !== 'active') return respond(SeStatus.TOKEN_SUSPENDED);
    return respond(StatusWord.SUCCESS, applicationRecord(token));
  }

  /** GENERATE AC (EMV Book 3 6.5.5), M/Chip only, once after GET PROCESSING OPTIONS. */
  #generateAc(command: DecodedCommandApdu): Uint8Array {
    const selection = this.#selection;
    const token = selection?.token;
    if (token === undefined || token.profile !== 'mchip' || selection?.processing !== true)
      return respond(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED);
    if (command.p2 !== 0 || (command.p1 & 0x2f) !== 0 || command.p1 >> 6 === 0b11)
      return respond(StatusWord.INCORRECT_P1_P2);
    const data = command.data ?? new Uint8Array(0);
    let values: Map<string, Uint8Array>;
    try {
      values = splitDolData(mchipCdol1, data);
    } catch {
      return respond(StatusWord.WRONG_LENGTH);
    }
    const amount = bcdAmount(values.get('9F02'));
    if (amount === undefined) return respond(StatusWord.WRONG_DATA);
    const refusal = this.#paymentRefusal(token);
    if (refusal !== undefined) return respond(refusal);
    selection.processing = false;
    // An online-only card: a TC request is answered with an ARQC, an AAC request with an AAC.
    const type: AcType = command.p1 >> 6 === 0 ? 'aac' : 'arqc';
    const cdcvm = type === 'arqc' && this.#useCdcvm(amount);
    this.#commit();
    const atc = twoBytes(token.atc);
    const iad = issuerApplicationData(token, cdcvm, type);
    const un = values.get('9F37') ?? new Uint8Array(4);
    const ac = cardCryptogram(token, atc, cryptogramData(token.cvn, values, AIP, atc, iad), un);
    return respond(
      StatusWord.SUCCESS,
      encodeTlv([
        {
          tag: '77',
          children: [
            { tag: '9F27', value: new Uint8Array([cidFor(type)]) },
            { tag: '9F36', value: atc },
            { tag: '9F26', value: ac },
            { tag: '9F10', value: iad },
          ],
        },
      ]),
    );
  }

  /** GET DATA (GlobalPlatform Card Specification 11.3): CPLC 9F7F, with the ISD selected. */
  #getData(command: DecodedCommandApdu): Uint8Array {
    if (this.#selection?.kind !== 'isd') return respond(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED);
    if (command.p1 !== 0x9f || command.p2 !== 0x7f) return respond(StatusWord.REFERENCED_DATA_NOT_FOUND);
    return respond(StatusWord.SUCCESS, cplc(this.#options.deviceKey));
  }

  /**
   * GET STATUS (GlobalPlatform Card Specification 11.4): P1 80 the ISD, 40 the applications;
   * P2 02 (TLV format, first occurrence); data 4F 00 (every AID).
   */
  #getStatus(command: DecodedCommandApdu): Uint8Array {
    if (this.#selection?.kind !== 'isd') return respond(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED);
    // With SCP03 keys installed, the list of applets is given only inside a secure channel.
    if (this.#options.scp03 !== undefined && !this.#secured)
      return respond(StatusWord.SECURITY_STATUS_NOT_SATISFIED);
    if ((command.p1 !== 0x80 && command.p1 !== 0x40) || command.p2 !== 0x02)
      return respond(StatusWord.INCORRECT_P1_P2);
    const data = command.data;
    if (data === undefined || data.length !== 2 || data[0] !== 0x4f || data[1] !== 0x00)
      return respond(StatusWord.WRONG_DATA);
    const tokens = this.#live();
    if (command.p1 === 0x40 && tokens.length === 0) return respond(StatusWord.REFERENCED_DATA_NOT_FOUND);
    return respond(StatusWord.SUCCESS, statusEntries(command.p1 === 0x80 ? 'isd' : 'apps', tokens));
  }

  /**
   * INITIALIZE UPDATE (GlobalPlatform Amendment D §7.1.1): P1 the key version (00 any), data
   * the 8-byte host challenge. The sequence counter is raised and sealed before answering.
   */
  #initializeUpdate(command: DecodedCommandApdu): Uint8Array {
    const keys = this.#options.scp03;
    if (keys === undefined) return respond(StatusWord.INS_NOT_SUPPORTED);
    if (command.p2 !== 0) return respond(StatusWord.INCORRECT_P1_P2);
    if (command.p1 !== 0 && command.p1 !== keys.kvn) return respond(StatusWord.REFERENCED_DATA_NOT_FOUND);
    if (command.data?.length !== 8) return respond(StatusWord.WRONG_LENGTH);
    const counter = (this.#state.scpCounter ?? 0) + 1;
    if (counter > 0xffffff) return respond(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED);
    this.#state.scpCounter = counter;
    this.#commit();
    this.#scp = new Scp03CardSession(keys, keys.kvn);
    return respond(StatusWord.SUCCESS, this.#scp.initializeUpdate(command.data, counter, ISD_AID));
  }

  /** EXTERNAL AUTHENTICATE (Amendment D §7.1.2): 6300 and no channel when the host fails. */
  #externalAuthenticate(bytes: Uint8Array): Uint8Array {
    const scp = this.#scp;
    if (scp === undefined) return respond(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED);
    try {
      scp.externalAuthenticate(bytes);
      return respond(StatusWord.SUCCESS);
    } catch {
      this.#scp = undefined;
      return respond(StatusWord.VERIFICATION_FAILED);
    }
  }

  /** A command inside the secure channel: unwrap, run, wrap the response; a bad MAC closes the channel. */
  #securedCommand(bytes: Uint8Array): Uint8Array {
    const scp = this.#scp;
    if (scp === undefined || scp.securityLevel === 0)
      return respond(StatusWord.SECURITY_STATUS_NOT_SATISFIED);
    let plain: Uint8Array;
    try {
      plain = scp.unwrapCommand(bytes);
    } catch {
      this.#scp = undefined;
      return respond(StatusWord.SECURITY_STATUS_NOT_SATISFIED);
    }
    this.#secured = true;
    let response: Uint8Array;
    try {
      response = this.#dispatch(plain);
    } finally {
      this.#secured = false;
    }
    const sw = ((response[response.length - 2] ?? 0) << 8) | (response[response.length - 1] ?? 0);
    if (this.#scp !== scp) return response; // the command ended the channel (a SELECT)
    return respond(sw, scp.wrapResponse(response.subarray(0, response.length - 2), sw));
  }

  /** True (and counted) when a CDCVM session is open and this tap fits its policy. */
  #useCdcvm(amount: number): boolean {
    const session = this.#session;
    if (session === undefined) return false;
    const policy = this.#policy;
    const fresh = this.#options.clock() - session.start <= policy.durationMs;
    if (!fresh || session.taps >= policy.maxTaps) {
      this.#session = undefined;
      return false;
    }
    if (session.amount + amount > policy.maxAmount) return false;
    session.taps += 1;
    session.amount += amount;
    return true;
  }

  // ---- Host side: personalization and the wearer interface ----

  #healthy(): void {
    if (this.#tamper !== undefined)
      throw new SecureElementError('ERR_SE_TAMPER', 'the secure element is tampered');
  }

  /** Installs one payment applet instance (personalization). */
  install(card: TokenPersonalization): TokenInfo {
    this.#healthy();
    if (!profileCvns[card.profile].includes(card.cvn))
      throw new SecureElementError('ERR_SE_CVN', 'this profile does not support that cryptogram version');
    if (!/^[0-9]{12,19}$/.test(card.pan) || !/^[0-9]{2}$/.test(card.psn) || !/^[0-9]{6}$/.test(card.expiry))
      throw new SecureElementError('ERR_SE_CARD', 'PAN, PSN or expiry is malformed');
    if (this.#state.tokens.some((t) => t.id === card.id))
      throw new SecureElementError('ERR_SE_EXISTS', 'a token with this id is already installed');
    if (this.#live().length >= MAX_TOKENS)
      throw new SecureElementError('ERR_SE_FULL', `at most ${MAX_TOKENS} payment applets`);
    const algorithm = card.cvn === 22 ? 'aes' : 'tdes';
    const mkAc =
      card.mkAc ??
      (card.imk === undefined
        ? undefined
        : deriveIccMasterKey({ imk: card.imk, pan: card.pan, psn: card.psn, algorithm }));
    if (mkAc === undefined || mkAc.length !== 16)
      throw new SecureElementError('ERR_SE_KEY', 'a 16-byte MK-AC or issuer master key is required');
    const base = baseAids[card.profile];
    const taken = new Set(this.#live().map((t) => t.aid));
    let aid = base;
    for (let suffix = 1; taken.has(aid); suffix++)
      aid = base + suffix.toString(16).padStart(2, '0').toUpperCase();
    const token: TokenRecord = {
      id: card.id,
      profile: card.profile,
      cvn: card.cvn,
      aid,
      label: card.label.slice(0, 16),
      pan: card.pan,
      expiry: card.expiry,
      psn: card.psn,
      mkAc: toHex(mkAc),
      keyDerivationIndex: card.keyDerivationIndex ?? 1,
      atc: card.atc ?? 0,
      status: 'active',
    };
    this.#state.tokens.push(token);
    this.#state.order.push(token.id);
    this.#commit();
    return info(token);
  }

  tokens(): TokenInfo[] {
    this.#healthy();
    return this.#live().map(info);
  }

  #token(id: string): TokenRecord {
    const token = this.#state.tokens.find((t) => t.id === id && t.status !== 'deleted');
    if (token === undefined) throw new SecureElementError('ERR_SE_TOKEN', 'no such token');
    return token;
  }

  /** Token lifecycle: active <-> suspended, then deleted (final: its keys are erased). */
  setTokenStatus(id: string, status: TokenStatus): void {
    this.#healthy();
    const token = this.#token(id);
    if (status === 'deleted') {
      this.#state.tokens = this.#state.tokens.filter((t) => t.id !== id);
      this.#state.order = this.#state.order.filter((o) => o !== id);
    } else {
      token.status = status;
    }
    if (this.#selection?.token?.id === id) this.#selection = undefined;
    this.#commit();
  }

  /** Makes a token the default card: first in the PPSE. */
  setDefault(id: string): void {
    this.#healthy();
    this.#token(id);
    this.#state.order = [id, ...this.#state.order.filter((o) => o !== id)];
    this.#commit();
  }

  /** Enrolls the wearer's PIN: only when none is set or the old one is blocked (re-enrollment). */
  enrollPin(pin: string): void {
    this.#healthy();
    if (!PIN_PATTERN.test(pin)) throw new SecureElementError('ERR_SE_PIN_FORMAT', 'a PIN is 4 to 12 digits');
    const current = this.#state.pin;
    if (current !== undefined && current.tries > 0)
      throw new SecureElementError('ERR_SE_PIN_SET', 'a PIN is already enrolled');
    const salt = this.#options.rng(16);
    this.#state.pin = { salt: toHex(salt), hash: pinHash(salt, pin), tries: PIN_TRIES, maxTries: PIN_TRIES };
    this.#session = undefined;
    this.#commit();
  }

  /**
   * Verifies the wearer's PIN. The try counter is decremented and saved BEFORE the comparison
   * (DESIGN.md invariant 8), so cutting power mid-check never gives a try back.
   */
  verifyPin(pin: string): PinResult {
    this.#healthy();
    const record = this.#state.pin;
    if (record === undefined) return { status: 'not-enrolled', triesLeft: 0 };
    if (record.tries === 0) return { status: 'blocked', triesLeft: 0 };
    record.tries -= 1;
    this.#commit();
    const candidate = typeof pin === 'string' ? pin : '';
    const ok = constantTimeEqual(fromHex(pinHash(fromHex(record.salt), candidate)), fromHex(record.hash));
    if (!ok) {
      this.#session = undefined;
      return record.tries === 0
        ? { status: 'blocked', triesLeft: 0 }
        : { status: 'wrong', triesLeft: record.tries };
    }
    record.tries = record.maxTries;
    this.#commit();
    this.#session = { start: this.#options.clock(), taps: 0, amount: 0 };
    return { status: 'verified', triesLeft: record.tries };
  }

  /** The wrist sensor reports the wearable taken off: the CDCVM session ends. */
  wristOff(): void {
    this.#session = undefined;
  }

  get pinTriesLeft(): number | undefined {
    return this.#state.pin?.tries;
  }

  /** The wearer interface alone, to hand to the wearable's firmware. */
  get wearer(): WearerInterface {
    const se = this;
    return {
      enrollPin: (pin) => se.enrollPin(pin),
      verifyPin: (pin) => se.verifyPin(pin),
      wristOff: () => se.wristOff(),
      get pinTriesLeft() {
        return se.pinTriesLeft;
      },
    };
  }
}

function info(token: TokenRecord): TokenInfo {
  return { id: token.id, profile: token.profile, aid: token.aid, status: token.status, atc: token.atc };
}

function pinHash(salt: Uint8Array, pin: string): string {
  return createHash('sha256').update(salt).update(pin, 'utf8').digest('hex').toUpperCase();
}
