import { isAmuletError } from '@amulet/bytes';
import {
  finishWearableHandshake,
  type NameFields,
  respondWearableHandshake,
  type SecureLinkSession,
  type WearableHandshake,
} from '@amulet/pki';
import {
  connectVpcd,
  generatePrivateScalar,
  loadSandboxCards,
  SecureElement,
  type SecureElementOptions,
  type SeTransport,
  type VpcdCard,
  type WebSocketSeServer,
  webSocketSeServer,
} from '@amulet/secure-element';
import { ApduTrace } from './apdu-trace.ts';
import { WearableError } from './wearable-error.ts';
import {
  serveWearableLink,
  type WearableLinkEndpoint,
  type WearableLinkServer,
} from './wearable-link-server.ts';
import {
  type DeviceCommandKind,
  decodeWearerRequest,
  encodeWearerResponse,
  WEARER_ERROR_CODES,
  type WearerRequest,
  type WearerResponse,
} from './wearer-messages.ts';

export interface WearableOptions extends SecureElementOptions {
  /** Loads the sandbox cards (docs/secure-element.md) into an empty SE. */
  readonly sandboxCards?: boolean;
  /** The wearable's screen: called with the six digits when a phone finishes the handshake. */
  readonly onSas?: (sas: string) => void;
}

/**
 * The wearable as a program (DESIGN.md, "The components"): its secure element, the NFC front
 * end that readers reach (in process, or WebSocket), the wrist sensor, and the secure link
 * endpoint for the companion phone. It never sees the PIN in clear outside the link record
 * that carries it straight to the SE. It is the companion's `WearableTransport` (`exchange`),
 * in process, or over a WebSocket through `serveLink`.
 */
export class Wearable implements WearableLinkEndpoint {
  readonly se: SecureElement;
  /** The APDUs of the NFC interface (bounded), for `amulet wearable trace`. */
  readonly trace = new ApduTrace();
  readonly #rng: (n: number) => Uint8Array;
  #onWrist = false;
  readonly #onSas: ((sas: string) => void) | undefined;
  #pairing: { readonly state: WearableHandshake; readonly sas: string } | undefined;
  #link: SecureLinkSession | undefined;
  #sas: string | undefined;
  /** The SE verified the wearer's PIN on the current link (reset by a new handshake). */
  #pinVerified = false;

  private constructor(se: SecureElement, rng: (n: number) => Uint8Array, onSas?: (sas: string) => void) {
    this.se = se;
    this.#rng = rng;
    this.#onSas = onSas;
  }

  static open(options: WearableOptions): Wearable {
    const se = SecureElement.open(options);
    if (options.sandboxCards === true && se.tamper === undefined && se.tokens().length === 0)
      loadSandboxCards(se);
    return new Wearable(se, options.rng, options.onSas);
  }

  // ---- NFC front end ----

  #field(apdu: Uint8Array): Uint8Array {
    const response = this.se.transmit(apdu);
    this.trace.record(apdu, response);
    return response;
  }

  /** A reader in the field, in this process. */
  get nfc(): SeTransport {
    return { transmit: async (apdu) => this.#field(apdu.slice()) };
  }

  /** The field over a WebSocket: one reader at a time (docs/secure-element.md, "Transports"). */
  serveNfc(options: { readonly host?: string; readonly port?: number } = {}): Promise<WebSocketSeServer> {
    return webSocketSeServer((apdu) => this.#field(apdu), options);
  }

  /** The field through pcscd: attaches the SE to vsmartcard's vpcd as a virtual card (traced too). */
  attachVpcd(options: { readonly host?: string; readonly port?: number } = {}): Promise<VpcdCard> {
    return connectVpcd({ transmit: (apdu) => this.#field(apdu), reset: () => this.se.fieldReset() }, options);
  }

  // ---- Wrist sensor ----

  wristOn(): void {
    this.#onWrist = true;
  }

  /** Taken off the wrist: the CDCVM session in the SE ends at once. */
  wristOff(): void {
    this.#onWrist = false;
    this.se.wristOff();
  }

  get onWrist(): boolean {
    return this.#onWrist;
  }

  // ---- Manufacture (DESIGN.md flow 1) ----

  /**
   * Makes the device key inside the SE, sends its CSR to the device CA through `enroll`, and
   * stores the chain that comes back (device certificate first). Returns that chain.
   */
  async manufacture(
    subject: NameFields,
    enroll: (csr: Uint8Array) => Promise<readonly Uint8Array[]>,
  ): Promise<readonly Uint8Array[]> {
    this.se.generateDeviceKey();
    const chain = await enroll(await this.se.certificationRequest(subject));
    this.se.storeCertificates(chain);
    return chain;
  }

  // ---- Secure link to the phone (docs/protocols/secure-link.md) ----

  /** The six digits on the wearable's screen while pairing, until the next handshake. */
  get sas(): string | undefined {
    return this.#sas;
  }

  /**
   * The companion's `WearableTransport`: one message from the phone in, the wearable's one reply
   * out. A PhoneHello (type 0x01) starts a new handshake and ends any link; a PhoneFinished (0x03)
   * completes it (empty reply); anything else is a secure-link record (0x17 data, 0x15 close).
   */
  async exchange(message: Uint8Array): Promise<Uint8Array> {
    switch (message[0]) {
      case PHONE_HELLO:
        return (await this.acceptPhone(message)).message;
      case PHONE_FINISHED:
        this.finishPairing(message);
        return new Uint8Array(0);
      default:
        return this.handlePhoneRecord(message);
    }
  }

  /** Answers a PhoneHello: the wearable's hello, signed in the SE, and the short code to show. */
  async acceptPhone(phoneHello: Uint8Array): Promise<{ readonly message: Uint8Array; readonly sas: string }> {
    this.#link = undefined;
    this.#pinVerified = false;
    this.#sas = undefined;
    const { message, state, sas } = await respondWearableHandshake({
      phoneHello,
      ephemeralPrivateKey: generatePrivateScalar(this.#rng),
      random: this.#rng(32),
      chain: this.se.certificates(),
      signer: this.se.secureLinkSigner(),
    });
    this.#pairing = { state, sas };
    return { message, sas };
  }

  /** Checks the phone's key confirmation; the link is open after this, and the screen shows the code. */
  finishPairing(phoneFinished: Uint8Array): void {
    const pairing = this.#pairing;
    this.#pairing = undefined;
    if (pairing === undefined) throw new WearableError('ERR_WEARABLE_LINK', 'no pairing in progress');
    this.#link = finishWearableHandshake(pairing.state, phoneFinished);
    this.#sas = pairing.sas;
    this.#onSas?.(pairing.sas);
  }

  /** One record from the phone in, one record back: a request and its answer (wearer-messages.ts). */
  handlePhoneRecord(record: Uint8Array): Uint8Array {
    const link = this.#link;
    if (link === undefined) throw new WearableError('ERR_WEARABLE_LINK', 'no secure link');
    const opened = link.open(record);
    if (opened.kind === 'close') {
      this.#link = undefined;
      this.#pinVerified = false;
      return link.close();
    }
    let response: WearerResponse;
    try {
      response = this.#answer(decodeWearerRequest(opened.data));
    } catch (error) {
      response = {
        kind: 'error',
        code:
          isAmuletError(error) && error.code === 'ERR_WEARABLE_MESSAGE'
            ? ERRORS.message
            : ERRORS.secureElement,
      };
    }
    return link.seal(encodeWearerResponse(response));
  }

  #answer(request: WearerRequest): WearerResponse {
    const se = this.se;
    switch (request.kind) {
      case 'enroll-pin':
        try {
          se.wearer.enrollPin(request.pin);
        } catch {
          return { kind: 'pin', status: 'refused', triesLeft: se.pinTriesLeft ?? 0 };
        }
        return { kind: 'pin', status: 'enrolled', triesLeft: se.pinTriesLeft ?? 0 };
      case 'verify-pin': {
        // A CDCVM session only makes sense on the wrist: it ends when the wearable comes off.
        if (!this.#onWrist) return { kind: 'error', code: ERRORS.offWrist };
        // The SE counts the try down before it compares (DESIGN.md invariant 8).
        const result = se.wearer.verifyPin(request.pin);
        this.#pinVerified = result.status === 'verified';
        return { kind: 'pin', status: result.status, triesLeft: result.triesLeft };
      }
      case 'attest':
        return this.#attest(request.nonce, request.context);
      case 'apdu':
        // Provisioning APDUs relayed from the TSP's loader (SCP11): opaque to the phone.
        return { kind: 'apdu', response: se.transmit(request.command) };
      case 'command':
        this.#command(request.command, request.tokenReference);
        return { kind: 'done' };
      case 'cards':
        return {
          kind: 'cards',
          cards: se.tokens().map((t, i) => ({
            id: t.id,
            aid: t.aid,
            status: t.status === 'suspended' ? 'suspended' : 'active',
            isDefault: i === 0,
          })),
        };
    }
  }

  /**
   * The wearable's rules for its device key (docs/companion.md, "Attestation"): it attests a
   * registration only for the short code it shows itself, so the wallet pairs the very wearable
   * whose code the user compared; and a "found" only after the SE verified the wearer's PIN on
   * this link.
   */
  #attest(nonce: Uint8Array, context: Uint8Array): WearerResponse {
    const text = new TextDecoder().decode(context);
    const allowed =
      (text.startsWith(REGISTER_PREFIX) && this.#sas !== undefined && text.endsWith(` ${this.#sas}`)) ||
      (text.startsWith(FOUND_PREFIX) && this.#pinVerified);
    if (!allowed) return { kind: 'error', code: ERRORS.refused };
    const signed = this.se.attest(nonce, context);
    return {
      kind: 'attestation',
      chain: this.se.certificates(),
      context: signed.context,
      signature: signed.signature,
    };
  }

  /**
   * The wallet's device commands (DESIGN.md flows 7 and 8). "lock" suspends every active payment
   * applet, so no tap gets a cryptogram; "unlock" resumes the suspended ones (the TSP still
   * declines a token it keeps suspended). A command for a card this SE does not hold is done.
   */
  #command(kind: DeviceCommandKind, tokenReference: string): void {
    const se = this.se;
    const known = se.tokens().some((t) => t.id === tokenReference);
    switch (kind) {
      case 'lock':
        for (const t of se.tokens()) if (t.status === 'active') se.setTokenStatus(t.id, 'suspended');
        return;
      case 'unlock':
        for (const t of se.tokens()) if (t.status === 'suspended') se.setTokenStatus(t.id, 'active');
        return;
      case 'set-default':
        if (known) se.setDefault(tokenReference);
        return;
      case 'delete-applet':
        if (known) se.setTokenStatus(tokenReference, 'deleted');
        return;
      case 'wipe':
        se.wipe();
        return;
    }
  }

  /** Serves the phone link over a WebSocket (one phone at a time): see wearable-link-server.ts. */
  serveLink(options: { readonly host?: string; readonly port?: number } = {}): Promise<WearableLinkServer> {
    return serveWearableLink(this, options);
  }
}

const PHONE_HELLO = 0x01;
const PHONE_FINISHED = 0x03;
const ERRORS = WEARER_ERROR_CODES;
const REGISTER_PREFIX = 'amulet-wallet/v1 register ';
const FOUND_PREFIX = 'amulet-wallet/v1 found ';
