import type { ApduTransmit, SupportedCvn } from '@amulet/secure-element';
import { ApduRelay, type RelayEvent } from './apdu-relay.ts';
import type { TokenService, TokenView } from './token-service.ts';
import { TokenServiceError } from './token-service-error.ts';
import { newId } from './world.ts';

/**
 * Why a provisioning session failed, as `RelayStep.reason` and the audit record give it. The
 * table is the documented list (docs/token-service.md, "Provisioning").
 */
export const ProvisioningFailure = {
  /** The SE's certificate does not chain to the root of trust, or is not the token's device. */
  seCertificate: 'SE_CERTIFICATE',
  /** The SE did not prove its key (SCP11 receipt), or the channel could not open. */
  seAuthentication: 'SE_AUTHENTICATION',
  /** The SE refused the loader's certificate (PERFORM SECURITY OPERATION). */
  seRefusedLoader: 'SE_REFUSED_LOADER',
  /** A personalization command answered an error status word. */
  seStatus: 'SE_STATUS',
  /** A response failed its R-MAC or was malformed once the channel was open. */
  seResponse: 'SE_RESPONSE',
  /** The SE's signed confirmation did not verify for this token, action and session. */
  seConfirmation: 'SE_CONFIRMATION',
  /** The session outlived `sessionTimeoutMs`. */
  timeout: 'TIMEOUT',
  /** The session exceeded `commandsMax` commands or a response exceeded its size limit. */
  limit: 'LIMIT',
  /** A new session for the same token replaced this one. */
  aborted: 'ABORTED',
  /** The token left the loading state meanwhile. */
  state: 'STATE',
  /** The HSM or the loader failed. */
  internal: 'INTERNAL',
} as const;
export type ProvisioningFailure = (typeof ProvisioningFailure)[keyof typeof ProvisioningFailure];

/** What the loader puts into one payment applet instance. The key stays in the HSM, named by id. */
export interface LoadRequest {
  readonly tokenId: string;
  readonly dpan: string;
  /** YYMM. */
  readonly tokenExpiry: string;
  readonly psn: string;
  readonly cvn: SupportedCvn;
  readonly label: string;
  /** The HSM key id of the token's ICC master key (EMV Book 2 A1.4.1), exportable, one session long. */
  readonly iccKeyId: string;
  /** SHA-256 of the device certificate the token is bound to: the only SE it may be loaded onto. */
  readonly deviceFingerprint: string;
}

export type LoadOutcome =
  | { readonly status: 'confirmed'; readonly aid: string }
  | { readonly status: 'failed'; readonly reason: ProvisioningFailure };

/**
 * The seam between the provisioning state machine and the secure element: a loader runs one
 * whole, interactive exchange with the SE (GlobalPlatform Amendment F SCP11 needs the SE's answers
 * to derive its keys), written as straight-line code over `transmit`. The Provisioner relays each
 * command through the wallet and the phone and resumes the loader with the response.
 */
export interface SecureElementLoader {
  load(request: LoadRequest, transmit: ApduTransmit): Promise<LoadOutcome>;
}

/** One step of the relay: the next command to forward, or the end of the session. */
export type RelayStep =
  | { readonly state: 'command'; readonly command: Uint8Array }
  | { readonly state: 'confirmed'; readonly token: TokenView }
  | { readonly state: 'failed'; readonly reason: string };

interface Session {
  readonly relay: ApduRelay<LoadOutcome>;
  readonly startedAtMs: number;
  readonly iccKeyId: string;
  commands: number;
  busy: boolean;
}

export interface ProvisionerOptions {
  readonly service: TokenService;
  readonly loader: SecureElementLoader;
  /** A session older than this fails at its next step; default 120 s. */
  readonly sessionTimeoutMs?: number;
  /** Commands per session at most; default 64 (an SCP11a personalization takes 10 or so). */
  readonly commandsMax?: number;
  /** Sessions open at once at most; default 10,000. */
  readonly sessionsMax?: number;
}

/** The longest response accepted: a short APDU's 256 data bytes and SW1-SW2 (ISO/IEC 7816-4 5.1). */
const RESPONSE_BYTES_MAX = 258;

/**
 * The provisioning state machine: pending -> loading -> confirmed (token active) or failed. One
 * session per token: a new `start` abandons the previous one. The token turns active only when
 * the loader reports the SE's verified confirmation (issue 6).
 */
export class Provisioner {
  readonly #sessions = new Map<string, Session>();
  readonly #timeoutMs: number;
  readonly #commandsMax: number;
  readonly #sessionsMax: number;

  constructor(private readonly options: ProvisionerOptions) {
    this.#timeoutMs = options.sessionTimeoutMs ?? 120_000;
    this.#commandsMax = options.commandsMax ?? 64;
    this.#sessionsMax = options.sessionsMax ?? 10_000;
  }

  /** Starts (or restarts) a session; returns the first command. */
  async start(tokenId: string, requestorTrid?: string, label = 'AMULET'): Promise<RelayStep> {
    const { service } = this.options;
    const view = await service.getToken(tokenId, requestorTrid);
    const token = await service.store.vault.getToken(view.tokenId);
    const card = await service.store.cards.get(view.tokenId);
    if (token === undefined || card === undefined || token.status !== 'inactive')
      throw new TokenServiceError('ERR_TSP_STATE', 'the token is not waiting for provisioning');
    // The SE shows 1 to 16 printable ASCII characters (docs/secure-element.md, tag 50).
    if (!/^[\x20-\x7e]{1,16}$/.test(label))
      throw new TokenServiceError('ERR_TSP_INPUT', 'a label is 1 to 16 printable ASCII characters');
    if (card.cvn !== 17 && card.cvn !== 18 && card.cvn !== 22)
      throw new TokenServiceError('ERR_TSP_INTERNAL', 'the card profile has no secure element applet');
    this.#sweep();
    const previous = this.#sessions.get(tokenId);
    if (previous !== undefined) this.#close(tokenId, previous);
    if (this.#sessions.size >= this.#sessionsMax)
      throw new TokenServiceError('ERR_TSP_INTERNAL', 'too many provisioning sessions are open');
    if (!(await service.store.cards.moveProvisioning(tokenId, ['pending', 'loading', 'failed'], 'loading')))
      throw new TokenServiceError('ERR_TSP_STATE', 'the token is not waiting for provisioning');
    // The ICC master key is derived in the HSM; the loader exports it only to seal it for the SE.
    const iccKeyId = newId(service.world, 'icc');
    await service.hsm.deriveIccMasterKey({
      imkId: card.imkKeyId,
      pan: token.dpan,
      psn: card.psn,
      keyId: iccKeyId,
      exportable: true,
    });
    const request: LoadRequest = {
      tokenId,
      dpan: token.dpan,
      tokenExpiry: token.tokenExpiry,
      psn: card.psn,
      cvn: card.cvn,
      label,
      iccKeyId,
      deviceFingerprint: token.device.certificateFingerprint,
    };
    const relay = new ApduRelay<LoadOutcome>((transmit) => this.options.loader.load(request, transmit));
    const session: Session = {
      relay,
      startedAtMs: service.world.now().getTime(),
      iccKeyId,
      commands: 0,
      busy: true,
    };
    this.#sessions.set(tokenId, session);
    try {
      return await this.#step(tokenId, session, await relay.first());
    } finally {
      session.busy = false;
    }
  }

  /** The response to the last command; answers with the next command or the end. */
  async relay(tokenId: string, response: Uint8Array, requestorTrid?: string): Promise<RelayStep> {
    await this.options.service.getToken(tokenId, requestorTrid);
    const session = this.#sessions.get(tokenId);
    if (session === undefined)
      throw new TokenServiceError('ERR_TSP_STATE', 'no provisioning session for this token');
    if (session.busy)
      throw new TokenServiceError('ERR_TSP_STATE', 'the previous response is still being processed');
    if (this.#expired(session)) return this.#fail(tokenId, session, ProvisioningFailure.timeout);
    if (response.length > RESPONSE_BYTES_MAX) return this.#fail(tokenId, session, ProvisioningFailure.limit);
    session.busy = true;
    try {
      return await this.#step(tokenId, session, await session.relay.respond(response));
    } finally {
      session.busy = false;
    }
  }

  async #step(tokenId: string, session: Session, event: RelayEvent<LoadOutcome>): Promise<RelayStep> {
    if (this.#sessions.get(tokenId) !== session)
      return { state: 'failed', reason: ProvisioningFailure.aborted };
    if (event.kind === 'command') {
      if (++session.commands > this.#commandsMax)
        return this.#fail(tokenId, session, ProvisioningFailure.limit);
      return { state: 'command', command: event.command };
    }
    if (event.kind === 'error') return this.#fail(tokenId, session, ProvisioningFailure.internal);
    if (event.value.status === 'failed') return this.#fail(tokenId, session, event.value.reason);
    this.#close(tokenId, session);
    const { service } = this.options;
    if (!(await service.store.cards.moveProvisioning(tokenId, ['loading'], 'confirmed')))
      return this.#fail(tokenId, session, ProvisioningFailure.state);
    return { state: 'confirmed', token: await service.activateProvisioned(tokenId) };
  }

  #expired(session: Session): boolean {
    return this.options.service.world.now().getTime() - session.startedAtMs > this.#timeoutMs;
  }

  /** Drops sessions past their timeout (their tokens stay 'loading' until a restart or a relay). */
  #sweep(): void {
    for (const [tokenId, session] of this.#sessions)
      if (this.#expired(session) && !session.busy) this.#close(tokenId, session);
  }

  /** Ends a session: the loader unwinds, and the token's ICC key is deleted from the HSM. */
  #close(tokenId: string, session: Session): void {
    if (this.#sessions.get(tokenId) === session) this.#sessions.delete(tokenId);
    session.relay.abort();
    void this.options.service.hsm.deleteKey(session.iccKeyId).catch(() => undefined);
  }

  async #fail(tokenId: string, session: Session, reason: ProvisioningFailure): Promise<RelayStep> {
    this.#close(tokenId, session);
    await this.options.service.store.cards.moveProvisioning(tokenId, ['loading'], 'failed');
    await this.options.service.store.audit.append({
      actor: 'tsp',
      action: 'provisioning.failed',
      subject: tokenId,
      details: { reason },
    });
    return { state: 'failed', reason };
  }

  /** Sessions open now (for tests and metrics). */
  get openSessions(): number {
    return this.#sessions.size;
  }
}
