import type { Hsm } from '@amulet/hsm';
import { decodeTlv, encodeTlv, findTag } from '@amulet/tlv';
import type { TokenService, TokenView } from './token-service.ts';
import { TokenServiceError } from './token-service-error.ts';
import { newId } from './world.ts';

/** What the loader puts into one payment applet instance. Keys travel only inside TR-31 key blocks. */
export interface Personalization {
  readonly tokenId: string;
  readonly dpan: string;
  /** YYMM. */
  readonly tokenExpiry: string;
  readonly psn: string;
  readonly cvn: number;
  readonly profile: 'qvsdc' | 'mchip';
  readonly label: string;
  /** The token's ICC master key (EMV Book 2 A1.4.1), as a TR-31 key block under the SE's transport key. */
  readonly iccKeyBlock: string;
}

/**
 * The seam between the provisioning state machine and the secure element's card manager. A loader
 * turns a personalization into the APDU script the wallet and the phone relay as opaque bytes, and
 * checks the SE's authenticated confirmation. The SCP11 loader (GlobalPlatform Amendment F) plugs
 * in here once @amulet/secure-element has it; `MacConfirmedLoader` is the one used until then.
 */
export interface SecureElementLoader {
  script(personalization: Personalization): Promise<readonly Uint8Array[]>;
  /** True when `confirmation` (the data of the last response) is the SE's authentic receipt. */
  confirm(personalization: Personalization, confirmation: Uint8Array): Promise<boolean>;
}

/** Data objects of the STORE DATA command (GlobalPlatform 11.11) this loader sends. */
export const PersonalizationTag = {
  tokenId: 'DF01',
  dpan: '5A',
  expiry: '5F24',
  psn: '5F34',
  cvn: 'DF02',
  profile: 'DF03',
  label: '50',
  keyBlock: 'DF04',
} as const;

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

/** The bytes the SE's receipt MACs: a label, the token id and the DPAN. */
export function receiptData(tokenId: string, dpan: string): Uint8Array {
  return text(`amulet-installed/1|${tokenId}|${dpan}`);
}

/**
 * One STORE DATA (CLA 80, INS E2, P1 80 = last block) carrying the personalization as BER-TLV;
 * the SE answers with an AES-CMAC (NIST SP 800-38B, 16 bytes) over `receiptData` under a key it
 * shares with the TSP's HSM (the `mac` key `confirmationKeyId`).
 */
export class MacConfirmedLoader implements SecureElementLoader {
  constructor(
    private readonly hsm: Hsm,
    private readonly confirmationKeyId: string,
  ) {}

  async script(p: Personalization): Promise<readonly Uint8Array[]> {
    const body = encodeTlv([
      { tag: PersonalizationTag.tokenId, value: text(p.tokenId) },
      { tag: PersonalizationTag.dpan, value: text(p.dpan) },
      { tag: PersonalizationTag.expiry, value: text(p.tokenExpiry) },
      { tag: PersonalizationTag.psn, value: text(p.psn) },
      { tag: PersonalizationTag.cvn, value: Uint8Array.of(p.cvn) },
      { tag: PersonalizationTag.profile, value: text(p.profile) },
      { tag: PersonalizationTag.label, value: text(p.label.slice(0, 16)) },
      { tag: PersonalizationTag.keyBlock, value: text(p.iccKeyBlock) },
    ]);
    if (body.length > 255)
      throw new TokenServiceError('ERR_TSP_INTERNAL', 'the personalization does not fit one APDU');
    return [Uint8Array.of(0x80, 0xe2, 0x80, 0x00, body.length, ...body)];
  }

  async confirm(p: Personalization, confirmation: Uint8Array): Promise<boolean> {
    try {
      await this.hsm.verifyMac({
        keyId: this.confirmationKeyId,
        algorithm: 'cmac',
        data: receiptData(p.tokenId, p.dpan),
        mac: confirmation,
      });
      return true;
    } catch {
      return false;
    }
  }
}

/** Reads a STORE DATA of `MacConfirmedLoader` back (the SE side of the seam). */
export function parsePersonalizationCommand(
  apdu: Uint8Array,
): Omit<Personalization, 'cvn'> & { cvn: number } {
  if (apdu.length < 5 || apdu[0] !== 0x80 || apdu[1] !== 0xe2) throw new RangeError('not a STORE DATA');
  const nodes = decodeTlv(apdu.subarray(5, 5 + (apdu[4] ?? 0)));
  const get = (tag: string): Uint8Array => {
    const value = findTag(nodes, tag)?.value;
    if (value === undefined) throw new RangeError(`missing ${tag}`);
    return value;
  };
  const str = (tag: string): string => new TextDecoder().decode(get(tag));
  return {
    tokenId: str(PersonalizationTag.tokenId),
    dpan: str(PersonalizationTag.dpan),
    tokenExpiry: str(PersonalizationTag.expiry),
    psn: str(PersonalizationTag.psn),
    cvn: get(PersonalizationTag.cvn)[0] ?? 0,
    profile: str(PersonalizationTag.profile) === 'mchip' ? 'mchip' : 'qvsdc',
    label: str(PersonalizationTag.label),
    iccKeyBlock: str(PersonalizationTag.keyBlock),
  };
}

/** One step of the relay: the next command to forward, or the end of the session. */
export type RelayStep =
  | { readonly state: 'command'; readonly command: Uint8Array }
  | { readonly state: 'confirmed'; readonly token: TokenView }
  | { readonly state: 'failed'; readonly reason: string };

interface Session {
  readonly personalization: Personalization;
  readonly script: readonly Uint8Array[];
  next: number;
}

export interface ProvisionerOptions {
  readonly service: TokenService;
  readonly loader: SecureElementLoader;
  /** The `kek` under which the ICC master key is exported to the SE. */
  readonly transportKekId: string;
}

/**
 * The provisioning state machine: pending -> loading -> confirmed (token active) or failed. The
 * token turns active only when the loader accepts the SE's authenticated confirmation (issue 6).
 */
export class Provisioner {
  readonly #sessions = new Map<string, Session>();
  constructor(private readonly options: ProvisionerOptions) {}

  /** Starts (or restarts) a session; returns the first command. */
  async start(tokenId: string, requestorTrid?: string, label = 'AMULET'): Promise<RelayStep> {
    const { service } = this.options;
    const view = await service.getToken(tokenId, requestorTrid);
    const token = await service.store.vault.getToken(view.tokenId);
    const card = await service.store.cards.get(view.tokenId);
    if (token === undefined || card === undefined || token.status !== 'inactive')
      throw new TokenServiceError('ERR_TSP_STATE', 'the token is not waiting for provisioning');
    if (!(await service.store.cards.moveProvisioning(tokenId, ['pending', 'loading', 'failed'], 'loading')))
      throw new TokenServiceError('ERR_TSP_STATE', 'the token is not waiting for provisioning');
    // The ICC master key is derived in the HSM and leaves it only as a TR-31 key block.
    const keyId = newId(service.world, 'icc');
    await service.hsm.deriveIccMasterKey({
      imkId: card.imkKeyId,
      pan: token.dpan,
      psn: card.psn,
      keyId,
      exportable: true,
    });
    let iccKeyBlock: string;
    try {
      iccKeyBlock = await service.hsm.exportKey({ keyId, kekId: this.options.transportKekId });
    } finally {
      await service.hsm.deleteKey(keyId);
    }
    const personalization: Personalization = {
      tokenId,
      dpan: token.dpan,
      tokenExpiry: token.tokenExpiry,
      psn: card.psn,
      cvn: card.cvn,
      profile: card.cvn === 17 || card.cvn === 16 ? 'mchip' : 'qvsdc',
      label,
      iccKeyBlock,
    };
    const script = await this.options.loader.script(personalization);
    this.#sessions.set(tokenId, { personalization, script, next: 1 });
    const first = script[0];
    if (first === undefined)
      throw new TokenServiceError('ERR_TSP_INTERNAL', 'an empty personalization script');
    return { state: 'command', command: first };
  }

  /** The response to the last command; answers with the next command or the end. */
  async relay(tokenId: string, response: Uint8Array, requestorTrid?: string): Promise<RelayStep> {
    await this.options.service.getToken(tokenId, requestorTrid);
    const session = this.#sessions.get(tokenId);
    if (session === undefined)
      throw new TokenServiceError('ERR_TSP_STATE', 'no provisioning session for this token');
    const sw =
      response.length >= 2
        ? ((response[response.length - 2] ?? 0) << 8) | (response[response.length - 1] ?? 0)
        : 0;
    if (sw !== 0x9000) return this.#fail(tokenId, 'SE_STATUS');
    if (session.next < session.script.length) {
      const command = session.script[session.next++] as Uint8Array;
      return { state: 'command', command };
    }
    this.#sessions.delete(tokenId);
    const ok = await this.options.loader.confirm(
      session.personalization,
      response.subarray(0, response.length - 2),
    );
    if (!ok) return this.#fail(tokenId, 'SE_CONFIRMATION');
    const { service } = this.options;
    if (!(await service.store.cards.moveProvisioning(tokenId, ['loading'], 'confirmed')))
      return this.#fail(tokenId, 'STATE');
    return { state: 'confirmed', token: await service.activateProvisioned(tokenId) };
  }

  async #fail(tokenId: string, reason: string): Promise<RelayStep> {
    this.#sessions.delete(tokenId);
    await this.options.service.store.cards.moveProvisioning(tokenId, ['loading'], 'failed');
    await this.options.service.store.audit.append({
      actor: 'tsp',
      action: 'provisioning.failed',
      subject: tokenId,
      details: { reason },
    });
    return { state: 'failed', reason };
  }
}
