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
import { decodePhoneCommand, type PhoneAnswer, type PhoneCommand, WearableError } from './phone-commands.ts';

export interface WearableOptions extends SecureElementOptions {
  /** Loads the sandbox cards (docs/secure-element.md) into an empty SE. */
  readonly sandboxCards?: boolean;
}

/**
 * The wearable as a program (DESIGN.md, "The components"): its secure element, the NFC front
 * end that readers reach (in process, or WebSocket), the wrist sensor, and the secure link
 * endpoint for the companion phone. It never sees the PIN in clear outside the link record
 * that carries it straight to the SE.
 */
export class Wearable {
  readonly se: SecureElement;
  /** The APDUs of the NFC interface (bounded), for `amulet wearable trace`. */
  readonly trace = new ApduTrace();
  readonly #rng: (n: number) => Uint8Array;
  #onWrist = false;
  #pairing: WearableHandshake | undefined;
  #link: SecureLinkSession | undefined;

  private constructor(se: SecureElement, rng: (n: number) => Uint8Array) {
    this.se = se;
    this.#rng = rng;
  }

  static open(options: WearableOptions): Wearable {
    const se = SecureElement.open(options);
    if (options.sandboxCards === true && se.tamper === undefined && se.tokens().length === 0)
      loadSandboxCards(se);
    return new Wearable(se, options.rng);
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

  /** Answers a PhoneHello: the wearable's hello, signed in the SE, and the short code to show. */
  async acceptPhone(phoneHello: Uint8Array): Promise<{ readonly message: Uint8Array; readonly sas: string }> {
    this.#link = undefined;
    const { message, state, sas } = await respondWearableHandshake({
      phoneHello,
      ephemeralPrivateKey: generatePrivateScalar(this.#rng),
      random: this.#rng(32),
      chain: this.se.certificates(),
      signer: this.se.secureLinkSigner(),
    });
    this.#pairing = state;
    return { message, sas };
  }

  /** Checks the phone's key confirmation; the link is open after this. */
  finishPairing(phoneFinished: Uint8Array): void {
    const state = this.#pairing;
    this.#pairing = undefined;
    if (state === undefined) throw new WearableError('ERR_WEARABLE_LINK', 'no pairing in progress');
    this.#link = finishWearableHandshake(state, phoneFinished);
  }

  /** One record from the phone in, one record back: a command and its answer (phone-commands.ts). */
  handlePhoneRecord(record: Uint8Array): Uint8Array {
    const link = this.#link;
    if (link === undefined) throw new WearableError('ERR_WEARABLE_LINK', 'no secure link');
    const opened = link.open(record);
    if (opened.kind === 'close') {
      this.#link = undefined;
      return link.close();
    }
    let answer: PhoneAnswer;
    try {
      answer = this.#run(decodePhoneCommand(opened.data));
    } catch (error) {
      answer = { ok: false, error: isAmuletError(error) ? error.code : 'ERR_WEARABLE_INTERNAL' };
    }
    return link.seal(new TextEncoder().encode(JSON.stringify(answer)));
  }

  #run(command: PhoneCommand): PhoneAnswer {
    switch (command.op) {
      case 'set-pin':
        this.se.enrollPin(command.pin);
        return { ok: true };
      case 'verify-pin': {
        // A CDCVM session only makes sense on the wrist: it ends when the wearable comes off.
        if (!this.#onWrist) return { ok: false, error: 'ERR_WEARABLE_OFF_WRIST' };
        const result = this.se.verifyPin(command.pin);
        return { ok: true, status: result.status, triesLeft: result.triesLeft };
      }
      case 'set-default':
        this.se.setDefault(command.tokenId);
        return { ok: true };
      case 'lock': {
        const active = this.se.tokens().filter((t) => t.status === 'active');
        for (const token of active) this.se.setTokenStatus(token.id, 'suspended');
        return { ok: true, locked: active.length };
      }
      case 'wipe':
        this.se.wipe();
        return { ok: true };
      case 'cards':
        return {
          ok: true,
          cards: this.se
            .tokens()
            .map((t, i) => ({ id: t.id, aid: t.aid, status: t.status, default: i === 0 })),
        };
    }
  }
}
