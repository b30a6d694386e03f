import { WEARER_ERROR_CODES, type WearableCard, type WearerResponse } from '@amulet/wearable';
import { type CardEntry, encryptCardData, networkOf } from './card-encryption.ts';
import { CompanionError } from './companion-error.ts';
import type { WalletCard, WalletClient, WalletDevice, WalletEvent } from './wallet-client.ts';
import {
  type PairedWearable,
  type PairingOptions,
  pairWearable,
  reconnectWearable,
  type WearableTransport,
} from './wearable-link.ts';

/** Why the wearable refused, in words (its error codes, @amulet/wearable WEARER_ERROR_CODES). */
function refusal(answer: WearerResponse, otherwise: string): CompanionError {
  if (answer.kind === 'error' && answer.code === WEARER_ERROR_CODES.offWrist)
    return new CompanionError('ERR_COMPANION_WEARABLE', 'the wearable is not on the wrist');
  if (answer.kind === 'error' && answer.code === WEARER_ERROR_CODES.refused)
    return new CompanionError('ERR_COMPANION_WEARABLE', 'the wearable refused to attest');
  return new CompanionError('ERR_COMPANION_WEARABLE', otherwise);
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const PROVISIONING_ROUNDS_MAX = 64;

/** The contexts the wallet expects a device to sign (services/wallet, `attestationContext`). */
export function walletContext(purpose: 'register' | 'found', tenantId: string, subject: string): Uint8Array {
  return new TextEncoder().encode(`amulet-wallet/v1 ${purpose} ${tenantId} ${subject}`);
}

export interface CompanionOptions {
  readonly wallet: WalletClient;
  /** Trust anchors, tenant, clock, revocation and random source for pairing (docs/protocols/secure-link.md). */
  readonly pairing: Omit<PairingOptions, 'confirmSas'>;
}

/**
 * What the phone app does, as a library: every step talks to the wallet over HTTPS and to the
 * wearable over the secure link. The card number leaves the phone only as a JWE to the TSP, the
 * PIN only inside a secure-link record to the wearable's secure element.
 */
export class Companion {
  readonly wallet: WalletClient;
  readonly #pairing: CompanionOptions['pairing'];

  constructor(options: CompanionOptions) {
    this.wallet = options.wallet;
    this.#pairing = options.pairing;
  }

  async register(email: string, password: string): Promise<void> {
    await this.wallet.register(email, password);
    await this.wallet.login(email, password);
  }

  login(email: string, password: string): Promise<{ session: string; expiresAt: string }> {
    return this.wallet.login(email, password);
  }

  /**
   * Pairs a wearable: the secure-link handshake (its chain and signature verified here), the user
   * compares the six digits, then the wearable attests over the wallet's fresh nonce with a context
   * that names the same digits, and the wallet registers it for this user.
   */
  async pair(
    transport: WearableTransport,
    confirmSas: (sas: string) => Promise<boolean>,
  ): Promise<{ device: WalletDevice; wearable: PairedWearable }> {
    const wearable = await pairWearable(transport, { ...this.#pairing, confirmSas });
    const challenge = await this.wallet.challenge('register');
    const attestation = await this.#attest(
      wearable,
      challenge.nonce,
      walletContext('register', this.wallet.tenantId, wearable.sas),
    );
    const device = await this.wallet.registerDevice({
      certificateChain: attestation.chain.map(b64),
      signature: b64(attestation.signature),
      nonce: challenge.nonce,
      sas: wearable.sas,
      context: b64(attestation.context),
    });
    return { device, wearable };
  }

  async #attest(wearable: PairedWearable, nonceB64: string, context: Uint8Array) {
    const answer = await wearable.request({
      kind: 'attest',
      nonce: new Uint8Array(Buffer.from(nonceB64, 'base64')),
      context,
    });
    if (answer.kind !== 'attestation') throw refusal(answer, 'the wearable refused to attest');
    return answer;
  }

  /** Sets the PIN in the wearable's secure element, over the secure link (no server sees it). */
  async setPin(wearable: PairedWearable, pin: string): Promise<void> {
    const answer = await wearable.request({ kind: 'enroll-pin', pin });
    if (answer.kind !== 'pin' || answer.status !== 'enrolled')
      throw new CompanionError('ERR_COMPANION_WEARABLE', 'the wearable refused the PIN');
  }

  /** Re-enters the PIN (a new CDCVM session); returns the SE's verdict and the tries left. */
  async verifyPin(wearable: PairedWearable, pin: string): Promise<{ status: string; triesLeft: number }> {
    const answer = await wearable.request({ kind: 'verify-pin', pin });
    if (answer.kind !== 'pin') throw refusal(answer, 'unexpected answer to a PIN');
    return { status: answer.status, triesLeft: answer.triesLeft };
  }

  /**
   * Adds a card: encrypts it to the TSP's key, asks the wallet to digitize, enters the OTP when
   * the issuer steps up, and relays the provisioning APDUs between the wallet and the wearable.
   */
  async addCard(
    deviceId: string,
    wearable: PairedWearable,
    card: CardEntry,
    otp: () => Promise<string>,
    label?: string,
  ): Promise<WalletCard> {
    const network = networkOf(card.pan);
    if (network === undefined)
      throw new CompanionError('ERR_COMPANION_CARD', 'the card network is not known');
    const encryptedCard = await encryptCardData(card, await this.wallet.tspKey());
    let added = await this.wallet.digitize(deviceId, {
      encryptedCard,
      network,
      ...(label === undefined ? {} : { label }),
    });
    if (added.status === 'pending-otp') added = await this.wallet.otp(added.id, await otp());
    if (added.status === 'provisioning') await this.provision(added.id, wearable);
    return this.wallet.card(added.id);
  }

  /**
   * Relays the TSP loader's personalization (SCP11, GlobalPlatform Amendment F) between the wallet
   * and the wearable as opaque APDUs, until the wallet says it is done.
   */
  async provision(cardId: string, wearable: PairedWearable): Promise<WalletCard> {
    let responses: string[] = [];
    for (let round = 0; round < PROVISIONING_ROUNDS_MAX; round++) {
      const step = await this.wallet.provisioning(cardId, responses);
      if (step.done) break;
      responses = [];
      for (const command of step.commands) {
        const answer = await wearable.request({
          kind: 'apdu',
          command: new Uint8Array(Buffer.from(command, 'hex')),
        });
        if (answer.kind !== 'apdu')
          throw new CompanionError('ERR_COMPANION_WEARABLE', 'the wearable did not answer an APDU');
        responses.push(Buffer.from(answer.response).toString('hex').toUpperCase());
      }
    }
    return this.wallet.card(cardId);
  }

  /**
   * Opens the secure link again to a wearable paired before (its device certificate as recorded
   * at pairing, DER): no short code to compare this time (wearable-link.ts, reconnectWearable).
   */
  connect(transport: WearableTransport, deviceCertificate: Uint8Array): Promise<PairedWearable> {
    return reconnectWearable(transport, { ...this.#pairing, deviceCertificate });
  }

  /** The payment applets on the wearable, default first, as its SE reports them. */
  async wearableCards(wearable: PairedWearable): Promise<readonly WearableCard[]> {
    const answer = await wearable.request({ kind: 'cards' });
    if (answer.kind !== 'cards') throw refusal(answer, 'the wearable did not list its cards');
    return answer.cards;
  }

  async chooseDefault(cardId: string, wearable?: PairedWearable): Promise<WalletCard> {
    const card = await this.wallet.setDefault(cardId);
    if (wearable !== undefined) await this.syncCommands(card.deviceId, wearable);
    return card;
  }

  /** Relays the wallet's pending commands (lock, unlock, default, delete, wipe) to the wearable, then acknowledges each. */
  async syncCommands(deviceId: string, wearable: PairedWearable): Promise<string[]> {
    const done: string[] = [];
    for (const command of await this.wallet.commands(deviceId)) {
      const answer = await wearable.request({
        kind: 'command',
        command: command.kind,
        tokenReference: command.tokenReference ?? '',
      });
      if (answer.kind !== 'done') throw refusal(answer, 'the wearable refused a command');
      await this.wallet.acknowledge(deviceId, command.id);
      done.push(command.kind);
    }
    return done;
  }

  /**
   * The device's push channel (DESIGN.md flow 8): while the wearable is connected, relays every
   * command the wallet queues for it. Once the wallet's event stream for the device is open, the
   * commands queued while the wearable was away are relayed first (a "lock" after "lost"), then
   * each `device.command` event relays what is pending, one relay at a time. Returns when `signal`
   * aborts or the wallet ends the stream; a failed relay ends it with that error.
   */
  async relayDeviceCommands(
    deviceId: string,
    wearable: PairedWearable,
    signal: AbortSignal,
    onRelayed?: (kinds: readonly string[]) => void,
  ): Promise<void> {
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let relaying: Promise<void> = Promise.resolve();
    let failure: unknown;
    const relay = () => {
      relaying = relaying.then(async () => {
        if (stop.signal.aborted) return;
        try {
          const kinds = await this.syncCommands(deviceId, wearable);
          if (kinds.length > 0) onRelayed?.(kinds);
        } catch (error) {
          failure ??= error;
          stop.abort();
        }
      });
    };
    try {
      await this.wallet.follow(
        (event) => {
          if (event.type === 'device.command') relay();
        },
        stop.signal,
        deviceId,
        relay,
      );
      await relaying;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (failure !== undefined) throw failure;
  }

  /** Lost: the wallet suspends every token at the TSP before it answers. */
  reportLost(deviceId: string): Promise<WalletDevice> {
    return this.wallet.lost(deviceId);
  }

  /** Found: the PIN is verified by the wearable's SE, which then attests; the wallet resumes the tokens. */
  async reportFound(deviceId: string, wearable: PairedWearable, pin: string): Promise<WalletDevice> {
    const verdict = await this.verifyPin(wearable, pin);
    if (verdict.status !== 'verified')
      throw new CompanionError('ERR_COMPANION_WEARABLE', 'the PIN was not verified');
    const challenge = await this.wallet.challenge('found');
    const attestation = await this.#attest(
      wearable,
      challenge.nonce,
      walletContext('found', this.wallet.tenantId, deviceId),
    );
    const device = await this.wallet.found(deviceId, {
      signature: b64(attestation.signature),
      nonce: challenge.nonce,
      context: b64(attestation.context),
    });
    await this.syncCommands(deviceId, wearable);
    return device;
  }

  removeCard(cardId: string): Promise<void> {
    return this.wallet.remove(cardId);
  }

  follow(onEvent: (event: WalletEvent) => void, signal: AbortSignal, deviceId?: string): Promise<void> {
    return this.wallet.follow(onEvent, signal, deviceId);
  }
}
