import { unwrapKeyBlock } from '@amulet/emv';
import type { Hsm } from '@amulet/hsm';
import {
  type ApduTransmit,
  type Profile,
  personalizationScriptSealed,
  profileCvns,
  Scp11HostSession,
  type SealedIccKey,
  type SupportedCvn,
  sealIccKey,
  verifyConfirmation,
} from '@amulet/secure-element';
import type { DeviceCheck } from './device-certificate.ts';
import {
  type LoadOutcome,
  type LoadRequest,
  ProvisioningFailure,
  type SecureElementLoader,
} from './provisioning.ts';
import { newId, type World } from './world.ts';

export interface Scp11LoaderOptions {
  readonly hsm: Hsm;
  readonly world: World;
  /**
   * The loader's certificates, DER, leaf first: its service certificate (role `tsp-loader`,
   * issued by the root of trust's service CA for the HSM key below), then that CA.
   */
  readonly certificates: readonly Uint8Array[];
  /** The HSM `key-agreement` key (P-256) that the leaf certificate certifies: SK.OCE.ECKA. */
  readonly keyAgreementKeyId: string;
  /** Checks an SE's certificate chain (device certificate first) against the root of trust. */
  readonly verifyDevice: (chain: readonly Uint8Array[]) => DeviceCheck;
  /** The key version of PK.OCE.ECKA the SE is told (Amendment F 7.5.1); default 03. */
  readonly oceKeyVersion?: number;
}

/** The one-time key block protection key of the MK-AC export: AES-256, used once. */
const ONE_TIME_KEK_BYTES = 32;

function profileOf(cvn: SupportedCvn): Profile {
  // The qVSDC-like profile carries Visa's CVNs (18, 22), the M/Chip-like one CVN 17.
  return profileCvns.mchip.includes(cvn) ? 'mchip' : 'qvsdc';
}

/** EMV Book 3 Annex A, 5F24: YYMMDD; a token valid through YYMM expires on that month's last day. */
export function applicationExpiry(yymm: string): string {
  const year = 2000 + Number(yymm.slice(0, 2));
  const month = Number(yymm.slice(2, 4));
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${yymm}${String(lastDay).padStart(2, '0')}`;
}

/**
 * The token service as the off-card entity of GlobalPlatform Card Specification Amendment F
 * (SCP11a): it opens a secure channel with the SE through the relay, checking the SE's
 * certificate against the root of trust and that it is the very device the token was bound to,
 * proves its own certificate (the `tsp-loader` role) with a key that stays in the HSM, sends the
 * SE's personalization (GET STATUS, INSTALL [for install], INSTALL [for personalization], STORE
 * DATA) and accepts only the SE's signed confirmation bound to this session's receipt.
 */
export class Scp11Loader implements SecureElementLoader {
  constructor(private readonly options: Scp11LoaderOptions) {}

  async load(request: LoadRequest, transmit: ApduTransmit): Promise<LoadOutcome> {
    const { hsm, world } = this.options;
    let stage: 'open' | 'script' = 'open';
    try {
      const session = await Scp11HostSession.open({
        transmit,
        rng: world.random,
        verifyCardCertificates: (chain) => {
          const check = this.options.verifyDevice(chain);
          return check.status === 'valid' && check.fingerprint === request.deviceFingerprint;
        },
        oce: {
          certificates: this.options.certificates,
          // ShSes = ECDH(SK.OCE.ECKA, PK.SD.ECKA) inside the HSM (Amendment F 6.5.2.3).
          keyAgreement: (cardPublicKeySpki) =>
            hsm.deriveSharedSecret({
              keyId: this.options.keyAgreementKeyId,
              peerPublicKey: cardPublicKeySpki,
            }),
          kvn: this.options.oceKeyVersion ?? 0x03,
        },
      });
      stage = 'script';
      const { aid, confirmation } = await personalizationScriptSealed(
        session,
        {
          id: request.tokenId,
          profile: profileOf(request.cvn),
          cvn: request.cvn,
          label: request.label,
          pan: request.dpan,
          expiry: applicationExpiry(request.tokenExpiry),
          psn: request.psn,
        },
        (s) => this.#sealIccKey(s, request),
      );
      // The SE's receipt: signed by its certified key, naming this token, this action and this
      // session's SCP11 receipt (so no confirmation of another session is accepted).
      const verdict = verifyConfirmation({
        confirmation,
        cardPublicKey: session.cardPublicKey,
        receipt: session.receipt,
        tokenId: request.tokenId,
        action: 'personalized',
      });
      if (verdict.status !== 'valid' || verdict.aid !== aid)
        return { status: 'failed', reason: ProvisioningFailure.seConfirmation };
      return { status: 'confirmed', aid };
    } catch (error) {
      return { status: 'failed', reason: failureOf(error, stage) };
    }
  }

  /**
   * The one place where the token's ICC master key is in clear outside the HSM (docs/token-service.md,
   * "Key handling"). The HSM exports keys only as TR-31 key blocks and the SE takes MK-AC only
   * under the session's S-DEK (Amendment D 7.2), so: a one-time AES-256 KEK is entered into the
   * HSM as two components, MK-AC is exported under it (ANSI X9.143 version D) and the KEK deleted;
   * then, in one synchronous step with no await, the block is opened, MK-AC encrypted under
   * S-DEK with its check value, and every clear buffer zeroized.
   */
  async #sealIccKey(session: Scp11HostSession, request: LoadRequest): Promise<SealedIccKey> {
    const { hsm, world } = this.options;
    const kek = world.random(ONE_TIME_KEK_BYTES);
    const mask = world.random(ONE_TIME_KEK_BYTES);
    const component = kek.map((b, i) => b ^ (mask[i] ?? 0));
    const kekId = newId(world, 'otk');
    let keyBlock: string;
    try {
      // ANSI X9.24-1: a key entered in clear goes in as components whose XOR is the key.
      await hsm.importKeyComponents({
        keyId: kekId,
        algorithm: 'aes',
        usage: 'kek',
        components: [mask, component],
      });
      keyBlock = await hsm.exportKey({ keyId: request.iccKeyId, kekId, version: 'D' });
    } catch (error) {
      kek.fill(0);
      throw error;
    } finally {
      mask.fill(0);
      component.fill(0);
      await hsm.deleteKey(kekId).catch(() => undefined);
    }
    let mkAc: Uint8Array | undefined;
    try {
      mkAc = unwrapKeyBlock({ kbpk: kek, keyBlock }).key;
      return sealIccKey(session, mkAc, request.cvn);
    } finally {
      mkAc?.fill(0);
      kek.fill(0);
    }
  }
}

/** Maps what went wrong to the reason recorded; no detail of the SE's data is kept. */
function failureOf(error: unknown, stage: 'open' | 'script'): ProvisioningFailure {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  if (code.startsWith('ERR_HSM') || code.startsWith('ERR_TR31')) return ProvisioningFailure.internal;
  switch (code) {
    case 'ERR_SE_SCP11_CARD':
    case 'ERR_SE_CERTIFICATE':
      return ProvisioningFailure.seCertificate;
    case 'ERR_SE_SCP11_RECEIPT':
      return ProvisioningFailure.seAuthentication;
    case 'ERR_SE_SCP11_OCE':
      return ProvisioningFailure.seRefusedLoader;
    case 'ERR_SE_SCRIPT':
      return ProvisioningFailure.seStatus;
    case 'ERR_TSP_STATE':
      return ProvisioningFailure.aborted;
    default:
      return stage === 'open' ? ProvisioningFailure.seAuthentication : ProvisioningFailure.seResponse;
  }
}
