import { createDecipheriv, createHash } from 'node:crypto';
import { type DecodedCommandApdu, decodeCommandApdu, StatusWord } from '@amulet/apdu';
import { constantTimeEqual, fromHex, isAmuletError, toHex } from '@amulet/bytes';
import { deriveIccMasterKey, keyCheckValue } from '@amulet/emv';
import {
  attestationMessage,
  buildCsr,
  createChainVerifier,
  type NameFields,
  OID,
  parseCertificate,
  type Signer,
} from '@amulet/pki';
import { encodeTlv, splitDolData } from '@amulet/tlv';
import { parseAidObject, parseInstallForInstall, parseInstallForPersonalization } from './card-content.ts';
import { cplc, ISD_AID, isdFci, statusEntries } from './card-manager.ts';
import { type ConfirmedAction, signConfirmation } from './confirmation.ts';
import { type AttestationState, attestationContext } from './device-identity.ts';
import { generatePrivateScalar, pointFromSpki, publicPoint, signP256, spkiFromPoint } from './p256.ts';
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
import { decodePersonalizationData } from './personalization-data.ts';
import { Scp03CardSession, type Scp03Keys } from './scp03.ts';
import { cardKeyAgreement, Scp11Kid, type Scp11Variant } from './scp11.ts';
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
  /**
   * The roots this SE trusts for off-card entities (GlobalPlatform Amendment F, SCP11a): when set,
   * card content management needs an SCP11a channel with an OCE whose certificate chains to one
   * of them and carries the `tsp-loader` role; SCP11b is then enough only to read.
   */
  readonly oceTrustAnchors?: readonly Uint8Array[];
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
  /** Set while the open channel is SCP11: its variant, receipt and S-DEK. */
  #scp11:
    | { readonly variant: Scp11Variant; readonly receipt: Uint8Array; readonly dek: Uint8Array }
    | undefined;
  /** SCP11a: the OCE's certificates received so far (PERFORM SECURITY OPERATION), and its checked key. */
  #oceCertificates: Uint8Array[] = [];
  #ocePublicKey: Uint8Array | undefined;
  /** Command chaining (ISO/IEC 7816-4 5.1.1.1), for PERFORM SECURITY OPERATION only. */
  #chained: Uint8Array | undefined;
  /** An instance INSTALLed in this channel, waiting for its STORE DATA (nothing is saved before). */
  #pendingInstall: { readonly aid: string; readonly profile: Profile; personalizing: boolean } | undefined;
  /** The rest of a response longer than 256 bytes, for GET RESPONSE (ISO/IEC 7816-4 5.3.4). */
  #pendingResponse: Uint8Array | undefined;
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
    const pending = this.#pendingResponse;
    this.#pendingResponse = undefined;
    if (cla === 0x00 && command.ins === 0xc0) return this.#getResponse(command, pending);
    if (command.ins !== 0x2a) this.#chained = undefined;
    const channels = this.#scp03Keys() !== undefined || this.#state.identity !== undefined;
    if (this.#selection?.kind === 'isd' && channels && !this.#secured) {
      if (this.#scp03Keys() !== undefined && cla === 0x80 && command.ins === 0x50)
        return this.#initializeUpdate(command);
      if (this.#scp03Keys() !== undefined && cla === 0x84 && command.ins === 0x82)
        return this.#externalAuthenticate(bytes);
      if (cla === 0x80 && command.ins === 0x88) return this.#scp11Authenticate(command, 'B');
      if (cla === 0x80 && command.ins === 0x82) return this.#scp11Authenticate(command, 'A');
      if ((cla === 0x80 || cla === 0x90) && command.ins === 0x2a)
        return this.#performSecurityOperation(command);
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
      case '8E6':
      case '8E2':
      case '8E4':
      case '8F0':
        response = this.#cardContent(key, command);
        break;
      case '8D8':
        response = this.#putKey(command);
        break;
      default:
        if (['A4', 'A8', 'B2', 'AE', 'F2'].includes(key.slice(1)))
          return respond(StatusWord.CLA_NOT_SUPPORTED);
        return respond(StatusWord.INS_NOT_SUPPORTED);
    }
    const available = response.length - 2;
    // ISO/IEC 7816-4 5.3.4: more than 256 bytes go in parts, 61XX announcing the next.
    if (available > 256 && !this.#secured) {
      this.#pendingResponse = response.slice(256, available);
      return this.#nextPart(response.subarray(0, 256));
    }
    // ISO/IEC 7816-4 5.3.3: a short Ne smaller than the data available answers 6CXX.
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
    this.#closeChannel();
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
    // Amendment F 7.4.1: GET DATA BF21 returns the certificate store of the SD's ECKA key.
    if (command.p1 === 0xbf && command.p2 === 0x21) {
      const chain = this.#state.identity?.certificates ?? [];
      if (chain.length === 0) return respond(StatusWord.REFERENCED_DATA_NOT_FOUND);
      // The CAs first and CERT.SD.ECKA last, as Amendment F lists a certificate chain.
      return respond(StatusWord.SUCCESS, fromHex([...chain].reverse().join('')));
    }
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
    if ((this.#scp03Keys() !== undefined || this.#state.identity !== undefined) && !this.#secured)
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
    const keys = this.#scp03Keys();
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
      this.#closeChannel();
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
      this.#closeChannel();
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

  /** The ISD's SCP03 key set: the one PUT KEY stored, else the one given at open. */
  #scp03Keys(): (Scp03Keys & { readonly kvn: number }) | undefined {
    const stored = this.#state.scp03;
    if (stored === undefined) return this.#options.scp03;
    return { kvn: stored.kvn, enc: fromHex(stored.enc), mac: fromHex(stored.mac), dek: fromHex(stored.dek) };
  }

  /**
   * PUT KEY (GlobalPlatform Card Specification 11.8, Amendment D 7.2), inside SCP11 only: a new
   * SCP03 key set of three AES-128 keys, each `88 11 10 E(S-DEK, key) 03 KCV`, replacing the
   * current set (P1 its version, or 00 to add when none exists); P2 81 (several keys from id 1).
   * The keys are decrypted with S-DEK, checked against their KCVs, sealed, and the SE answers the
   * new version and the three KCVs.
   */
  #putKey(command: DecodedCommandApdu): Uint8Array {
    const channel = this.#scp11;
    if (this.#selection?.kind !== 'isd' || !this.#secured || channel === undefined)
      return respond(StatusWord.SECURITY_STATUS_NOT_SATISFIED);
    if (this.#options.oceTrustAnchors !== undefined && channel.variant !== 'A')
      return respond(StatusWord.SECURITY_STATUS_NOT_SATISFIED);
    const current = this.#scp03Keys();
    if (command.p2 !== 0x81 || (command.p1 & 0x80) !== 0) return respond(StatusWord.INCORRECT_P1_P2);
    if (command.p1 !== (current?.kvn ?? 0)) return respond(StatusWord.REFERENCED_DATA_NOT_FOUND);
    const data = command.data ?? new Uint8Array(0);
    const kvn = data[0] ?? 0;
    // Each key: type 88, length 11, key length 10, 16 encrypted bytes, KCV length 03, KCV (23 bytes).
    if (data.length !== 1 + 3 * 23 || kvn === 0 || kvn > 0x7f) return respond(StatusWord.WRONG_DATA);
    const keys: Uint8Array[] = [];
    const kcvs: Uint8Array[] = [];
    for (let i = 0; i < 3; i++) {
      const block = data.subarray(1 + i * 23, 1 + (i + 1) * 23);
      if (block[0] !== 0x88 || block[1] !== 0x11 || block[2] !== 0x10 || block[19] !== 0x03)
        return respond(StatusWord.WRONG_DATA);
      const key = decryptKey(channel.dek, block.subarray(3, 19));
      const kcv = keyCheckValue(key, { algorithm: 'aes', method: 'gp-aes', length: 3 });
      if (!constantTimeEqual(kcv, block.subarray(20, 23))) return respond(StatusWord.WRONG_DATA);
      keys.push(key);
      kcvs.push(kcv);
    }
    const [enc, mac, dek] = keys as [Uint8Array, Uint8Array, Uint8Array];
    this.#state.scp03 = { kvn, enc: toHex(enc), mac: toHex(mac), dek: toHex(dek) };
    this.#commit();
    return respond(StatusWord.SUCCESS, Uint8Array.from([kvn, ...kcvs.flatMap((k) => [...k])]));
  }

  #closeChannel(): void {
    this.#scp = undefined;
    this.#scp11 = undefined;
    this.#pendingInstall = undefined;
    this.#oceCertificates = [];
    this.#ocePublicKey = undefined;
    this.#chained = undefined;
  }

  /**
   * PERFORM SECURITY OPERATION (GlobalPlatform Amendment F 7.5.1): one OCE certificate per
   * command (chained with CLA 90 when longer than 255 bytes), the CAs first; P1 the OCE key
   * version, P2 b8 = 1 while more certificates follow. After the last, the SE checks the chain
   * against its OCE trust anchors and keeps PK.OCE.ECKA for MUTUAL AUTHENTICATE.
   */
  #performSecurityOperation(command: DecodedCommandApdu): Uint8Array {
    const anchors = this.#options.oceTrustAnchors;
    if (anchors === undefined) return respond(StatusWord.INS_NOT_SUPPORTED);
    this.#scp = undefined;
    this.#scp11 = undefined;
    const data = command.data ?? new Uint8Array(0);
    const sofar = this.#chained ?? new Uint8Array(0);
    if (sofar.length + data.length > OCE_CERTIFICATE_BYTES_MAX) {
      this.#closeChannel();
      return respond(StatusWord.WRONG_LENGTH);
    }
    const joined = new Uint8Array(sofar.length + data.length);
    joined.set(sofar);
    joined.set(data, sofar.length);
    if (command.cla === 0x90) {
      this.#chained = joined;
      return respond(StatusWord.SUCCESS);
    }
    this.#chained = undefined;
    if (this.#oceCertificates.length >= 3) {
      this.#closeChannel();
      return respond(StatusWord.WRONG_DATA);
    }
    this.#oceCertificates.push(joined);
    if ((command.p2 & 0x80) !== 0) return respond(StatusWord.SUCCESS);
    const received = this.#oceCertificates;
    this.#oceCertificates = [];
    const key = trustedOceKey([...received].reverse(), anchors);
    if (key === undefined) return respond(StatusWord.SECURITY_STATUS_NOT_SATISFIED);
    this.#ocePublicKey = key;
    return respond(StatusWord.SUCCESS);
  }

  #nextPart(part: Uint8Array): Uint8Array {
    const rest = this.#pendingResponse?.length ?? 0;
    return respond(rest === 0 ? StatusWord.SUCCESS : 0x6100 | (rest >= 256 ? 0 : rest), part);
  }

  /** GET RESPONSE (ISO/IEC 7816-4 11.7.1): the next part of a long response, right after it. */
  #getResponse(command: DecodedCommandApdu, pending: Uint8Array | undefined): Uint8Array {
    if (command.p1 !== 0 || command.p2 !== 0) return respond(StatusWord.INCORRECT_P1_P2);
    if (pending === undefined) return respond(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED);
    const size = Math.min(command.le ?? 256, 256, pending.length);
    this.#pendingResponse = pending.length > size ? pending.slice(size) : undefined;
    return this.#nextPart(pending.subarray(0, size));
  }

  /**
   * INTERNAL AUTHENTICATE for SCP11b (GlobalPlatform Amendment F 7.6): P1 the key version of
   * SK.SD.ECKA (00 any), P2 its key identifier 13. Opens an SCP11 channel at level 33.
   */
  #scp11Authenticate(command: DecodedCommandApdu, variant: Scp11Variant): Uint8Array {
    const ocePublicKey = this.#ocePublicKey;
    this.#closeChannel();
    if (variant === 'A' && ocePublicKey === undefined)
      return respond(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED);
    const identity = this.#state.identity;
    if (identity === undefined || identity.certificates.length === 0)
      return respond(StatusWord.REFERENCED_DATA_NOT_FOUND);
    if (command.p2 !== Scp11Kid[variant] || (command.p1 !== 0 && command.p1 !== SD_ECKA_KVN))
      return respond(StatusWord.REFERENCED_DATA_NOT_FOUND);
    if (command.data === undefined) return respond(StatusWord.WRONG_LENGTH);
    try {
      const agreement = cardKeyAgreement({
        variant,
        commandData: command.data,
        sdPrivateKey: fromHex(identity.privateKey),
        ...(ocePublicKey === undefined ? {} : { ocePublicKey }),
        rng: this.#options.rng,
      });
      this.#scp = agreement.session;
      this.#scp11 = { variant, receipt: agreement.receipt, dek: agreement.dek };
      return respond(StatusWord.SUCCESS, agreement.response);
    } catch {
      return respond(StatusWord.WRONG_DATA);
    }
  }

  /**
   * INSTALL, STORE DATA, DELETE and SET STATUS (GlobalPlatform Card Specification 11.5, 11.11,
   * 11.2, 11.10): only inside an SCP11 channel, whose receipt the confirmations carry.
   */
  #cardContent(key: string, command: DecodedCommandApdu): Uint8Array {
    const channel = this.#scp11;
    const identity = this.#state.identity;
    if (this.#selection?.kind !== 'isd' || !this.#secured || channel === undefined || identity === undefined)
      return respond(StatusWord.SECURITY_STATUS_NOT_SATISFIED);
    // With OCE trust anchors, only an authenticated off-card entity (SCP11a) changes card content.
    if (this.#options.oceTrustAnchors !== undefined && channel.variant !== 'A')
      return respond(StatusWord.SECURITY_STATUS_NOT_SATISFIED);
    const data = command.data ?? new Uint8Array(0);
    const confirm = (tokenId: string, aid: string, action: ConfirmedAction) =>
      respond(
        StatusWord.SUCCESS,
        signConfirmation(fromHex(identity.privateKey), {
          tokenId,
          aid: fromHex(aid),
          action,
          receipt: channel.receipt,
        }),
      );
    if (key === '8E6') return this.#install(command, data);
    if (key === '8E2') {
      const pending = this.#pendingInstall;
      // P1: b8 last block, b6 application-dependent encryption, b5 BER-TLV; one block only.
      if (command.p1 !== 0xb0 || command.p2 !== 0) return respond(StatusWord.INCORRECT_P1_P2);
      if (pending === undefined || !pending.personalizing)
        return respond(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED);
      let token: TokenInfo;
      try {
        const perso = decodePersonalizationData(data);
        const mkAc = decryptKey(channel.dek, perso.encryptedMkAc);
        const algorithm = perso.cvn === 22 ? 'aes' : 'tdes';
        const kcv = keyCheckValue(
          mkAc,
          algorithm === 'aes' ? { algorithm, method: 'gp-aes', length: 3 } : { algorithm },
        );
        if (!constantTimeEqual(kcv, perso.keyCheckValue)) return respond(StatusWord.WRONG_DATA);
        if (profileCvns[pending.profile].includes(perso.cvn) === false) return respond(StatusWord.WRONG_DATA);
        token = this.#installToken(
          {
            id: perso.tokenId,
            profile: pending.profile,
            cvn: perso.cvn,
            label: perso.label,
            pan: perso.pan,
            expiry: perso.expiry,
            psn: perso.psn,
            mkAc,
          },
          pending.aid,
        );
      } catch (error) {
        if (isAmuletError(error) && (error.code === 'ERR_SE_EXISTS' || error.code === 'ERR_SE_FULL'))
          return respond(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED);
        return respond(StatusWord.WRONG_DATA);
      }
      this.#pendingInstall = undefined;
      return confirm(token.id, token.aid, 'personalized');
    }
    const aid = key === '8E4' ? parseAidObject(data) : toHex(data);
    const target = this.#live().find((t) => t.aid === aid);
    if (key === '8E4') {
      if (command.p1 !== 0 || command.p2 !== 0) return respond(StatusWord.INCORRECT_P1_P2);
      if (aid === undefined) return respond(StatusWord.WRONG_DATA);
      if (target === undefined) return respond(StatusWord.REFERENCED_DATA_NOT_FOUND);
      this.setTokenStatus(target.id, 'deleted');
      return confirm(target.id, target.aid, 'deleted');
    }
    // SET STATUS of an application: P1 40, P2 80 to lock, 00 to unlock; data the AID.
    if (command.p1 !== 0x40 || (command.p2 !== 0x80 && command.p2 !== 0x00))
      return respond(StatusWord.INCORRECT_P1_P2);
    if (data.length < 5 || data.length > 16) return respond(StatusWord.WRONG_DATA);
    if (target === undefined) return respond(StatusWord.REFERENCED_DATA_NOT_FOUND);
    const lock = command.p2 === 0x80;
    this.setTokenStatus(target.id, lock ? 'suspended' : 'active');
    return confirm(target.id, target.aid, lock ? 'locked' : 'unlocked');
  }

  /** INSTALL: P1 0C [for install and make selectable], then 20 [for personalization]. */
  #install(command: DecodedCommandApdu, data: Uint8Array): Uint8Array {
    if (command.p2 !== 0) return respond(StatusWord.INCORRECT_P1_P2);
    if (command.p1 === 0x0c) {
      const install = parseInstallForInstall(data);
      if (install === undefined) return respond(StatusWord.WRONG_DATA);
      if (this.#live().some((t) => t.aid === install.application) || install.application === toHex(ISD_AID))
        return respond(StatusWord.CONDITIONS_OF_USE_NOT_SATISFIED);
      if (this.#live().length >= MAX_TOKENS) return respond(StatusWord.NOT_ENOUGH_MEMORY);
      this.#pendingInstall = { aid: install.application, profile: install.profile, personalizing: false };
      return respond(StatusWord.SUCCESS, Uint8Array.of(0x00));
    }
    if (command.p1 === 0x20) {
      const aid = parseInstallForPersonalization(data);
      if (aid === undefined) return respond(StatusWord.WRONG_DATA);
      const pending = this.#pendingInstall;
      if (pending === undefined || pending.aid !== aid) return respond(StatusWord.REFERENCED_DATA_NOT_FOUND);
      pending.personalizing = true;
      return respond(StatusWord.SUCCESS, Uint8Array.of(0x00));
    }
    return respond(StatusWord.INCORRECT_P1_P2);
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
    return this.#installToken(card);
  }

  #installToken(card: TokenPersonalization, instanceAid?: string): TokenInfo {
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
    let aid = instanceAid ?? base;
    if (instanceAid !== undefined && taken.has(instanceAid))
      throw new SecureElementError('ERR_SE_EXISTS', 'an instance with this AID is already installed');
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

  // ---- Device identity (DESIGN.md flow 1): the key is made here and never leaves ----

  /**
   * Generates the device key pair inside the SE (at manufacture), from the injected random
   * source, and returns its public key as a DER SubjectPublicKeyInfo. Refused when one exists:
   * a new identity needs a wipe.
   */
  generateDeviceKey(): Uint8Array {
    this.#healthy();
    if (this.#state.identity !== undefined)
      throw new SecureElementError('ERR_SE_IDENTITY_EXISTS', 'the device key already exists');
    const privateKey = generatePrivateScalar(this.#options.rng);
    this.#state.identity = { privateKey: toHex(privateKey), certificates: [] };
    this.#commit();
    return spkiFromPoint(publicPoint(privateKey));
  }

  #identity(): { readonly privateKey: string; certificates: string[] } {
    this.#healthy();
    const identity = this.#state.identity;
    if (identity === undefined) throw new SecureElementError('ERR_SE_IDENTITY', 'no device key yet');
    return identity;
  }

  /** The device public key (DER SubjectPublicKeyInfo), or undefined before manufacture. */
  get devicePublicKey(): Uint8Array | undefined {
    const identity = this.#state.identity;
    return identity === undefined ? undefined : spkiFromPoint(publicPoint(fromHex(identity.privateKey)));
  }

  /** A signer that only the SE's own CSR and attestation code use; never handed out. */
  #signer(): Signer {
    const privateKey = fromHex(this.#identity().privateKey);
    return {
      algorithm: 'ES256',
      publicKeySpki: () => spkiFromPoint(publicPoint(privateKey)),
      sign: async (data) => signP256(privateKey, data),
    };
  }

  /** A PKCS #10 request for the device key (RFC 2986), signed inside: proof of possession. */
  async certificationRequest(subject: NameFields): Promise<Uint8Array> {
    return buildCsr(subject, this.#signer());
  }

  /**
   * Stores the chain the device CA issued (DER, the device certificate first). Refused unless
   * the first certificate certifies this SE's own key.
   */
  storeCertificates(chain: readonly Uint8Array[]): void {
    const identity = this.#identity();
    const leaf = chain[0];
    if (leaf === undefined || chain.length > 4)
      throw new SecureElementError('ERR_SE_CERTIFICATE', 'a chain of 1 to 4 certificates is expected');
    let point: Uint8Array;
    try {
      point = pointFromSpki(parseCertificate(leaf).subjectPublicKeyInfo);
      for (const certificate of chain) parseCertificate(certificate);
    } catch {
      throw new SecureElementError('ERR_SE_CERTIFICATE', 'a certificate does not parse');
    }
    if (toHex(point) !== toHex(publicPoint(fromHex(identity.privateKey))))
      throw new SecureElementError('ERR_SE_CERTIFICATE', 'the certificate is not for this device key');
    identity.certificates = chain.map((c) => toHex(c));
    this.#commit();
  }

  /** The stored chain, device certificate first. */
  certificates(): Uint8Array[] {
    return this.#identity().certificates.map((c) => fromHex(c));
  }

  /**
   * Signs an attestation challenge (docs/root-of-trust.md, "Attestation"): ECDSA over
   * attestationMessage(nonce, context) where the signed context is the caller's context with the
   * SE's state appended (see `attestationContext`). The verifier passes `context` as returned.
   */
  attest(
    nonce: Uint8Array,
    callerContext: Uint8Array,
  ): { readonly context: Uint8Array; readonly signature: Uint8Array } {
    const identity = this.#identity();
    const state: AttestationState = {
      tokens: this.#live().length,
      pin: this.#state.pin === undefined ? 'none' : this.#state.pin.tries === 0 ? 'blocked' : 'set',
      storageVersion: this.#counter.read(),
      certified: identity.certificates.length > 0,
    };
    const context = attestationContext(callerContext, state);
    return { context, signature: signP256(fromHex(identity.privateKey), attestationMessage(nonce, context)) };
  }

  /**
   * The signer for the secure link's wearable signature (docs/protocols/secure-link.md): it signs
   * only "AMULET-LINK-V1 wearable\0" || a 32-byte transcript hash, so the firmware holding it
   * cannot make the device key sign anything else (an attestation, a confirmation).
   */
  secureLinkSigner(): Signer {
    const signer = this.#signer();
    return {
      algorithm: signer.algorithm,
      publicKeySpki: () => signer.publicKeySpki(),
      sign: async (data) => {
        const prefix = SECURE_LINK_LABEL;
        if (data.length !== prefix.length + 32 || !prefix.every((b, i) => data[i] === b))
          throw new SecureElementError('ERR_SE_SIGN', 'the device key signs only secure link transcripts');
        return signer.sign(data);
      },
    };
  }

  /**
   * Wipes the wearer's data (resale, DESIGN.md flow 8): every payment applet with its keys, and the
   * PIN. The device identity stays: the root of trust re-binds it to the next owner.
   */
  wipe(): void {
    this.#healthy();
    this.#state.tokens = [];
    this.#state.order = [];
    delete this.#state.pin;
    this.#session = undefined;
    this.#selection = undefined;
    this.#closeChannel();
    this.#commit();
  }

  /**
   * The contactless field was reset or switched off (ISO/IEC 14443-4 deactivation): the selection,
   * any secure channel and any pending response end. The CDCVM session does not: the SE is powered
   * by the wearable, not by the field.
   */
  fieldReset(): void {
    this.#selection = undefined;
    this.#pendingResponse = undefined;
    this.#closeChannel();
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

const SECURE_LINK_LABEL = new TextEncoder().encode('AMULET-LINK-V1 wearable\0');

/** The most bytes of one OCE certificate (after command chaining). */
const OCE_CERTIFICATE_BYTES_MAX = 2048;

/**
 * Checks an OCE chain (leaf first) with @amulet/pki: a service certificate with the tsp-loader
 * role under one of the anchors. The SE has no trusted clock (as most cards: Amendment F leaves
 * validity to the OCE's issuer), so the chain is checked at the latest notBefore in it; the
 * signatures, usages and roles are checked in full. Returns PK.OCE.ECKA, or undefined.
 */
function trustedOceKey(chain: readonly Uint8Array[], anchors: readonly Uint8Array[]): Uint8Array | undefined {
  try {
    const parsed = chain.map((c) => parseCertificate(c));
    const nowMs = Math.max(...parsed.map((c) => c.notBeforeMs));
    const result = createChainVerifier({ trustAnchors: anchors }).verify({
      chain,
      nowMs,
      purpose: 'service',
      revocation: () => 'good',
    });
    if (result.status !== 'valid') return undefined;
    if (!(result.leaf.extendedKeyUsage ?? []).includes(OID.amuletKpTspLoader)) return undefined;
    return pointFromSpki(result.leaf.subjectPublicKeyInfo);
  } catch {
    return undefined;
  }
}

/** The key version of SK.SD.ECKA (GlobalPlatform Amendment F 7.1.1). */
export const SD_ECKA_KVN = 0x01;

/** A key under S-DEK: AES-CBC with a zero ICV, whole blocks (GlobalPlatform Amendment D 7.2). */
function decryptKey(dek: Uint8Array, encrypted: Uint8Array): Uint8Array {
  const decipher = createDecipheriv(`aes-${dek.length * 8}-cbc`, dek, new Uint8Array(16));
  decipher.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([decipher.update(encrypted), decipher.final()]));
}

function info(token: TokenRecord): TokenInfo {
  return { id: token.id, profile: token.profile, aid: token.aid, status: token.status, atc: token.atc };
}

function pinHash(salt: Uint8Array, pin: string): string {
  return createHash('sha256').update(salt).update(pin, 'utf8').digest('hex').toUpperCase();
}
