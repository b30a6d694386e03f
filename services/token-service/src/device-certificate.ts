import { createHash } from 'node:crypto';
import {
  type ChainFailure,
  type ChainVerifier,
  createChainVerifier,
  type ParsedCertificate,
  parseCertificate,
  type RevocationStatus,
} from '@amulet/pki';
import { type LoadedCrl, loadCrl } from './certificate-revocation.ts';

export interface DeviceTrustConfig {
  /** Root certificates (DER) of the root of trust. */
  readonly trustAnchors: readonly Uint8Array[];
  /** Device CA certificates known in advance (DER). */
  readonly intermediates?: readonly Uint8Array[];
  /**
   * The revocation list: serial numbers (upper-case hex, as @amulet/pki prints them) of revoked
   * device certificates, e.g. taken from the root of trust's CRL when it is fetched.
   */
  readonly revokedSerials?: readonly string[];
  /**
   * CRLs (DER, RFC 5280) of the root and device CAs, checked against `trustAnchors` and
   * `intermediates` when the service starts. Past a CRL's nextUpdate its CA's certificates are
   * refused (status unknown) until a fresh CRL is configured.
   */
  readonly crls?: readonly Uint8Array[];
}

export type DeviceCheck =
  | {
      readonly status: 'valid';
      readonly serial: string;
      /** SHA-256 of the DER certificate, lower-case hex: the device id the vault binds tokens to. */
      readonly fingerprint: string;
      readonly tenantId: string | undefined;
    }
  | { readonly status: 'invalid'; readonly reason: ChainFailure };

/** Verifies a device certificate chain (RFC 5280 path validation by @amulet/pki) and refuses revoked ones. */
export class DeviceCertificates {
  readonly #verifier: ChainVerifier;
  readonly #revoked: ReadonlySet<string>;
  readonly #crls: ReadonlyMap<string, LoadedCrl>;

  constructor(config: DeviceTrustConfig) {
    this.#verifier = createChainVerifier({
      trustAnchors: config.trustAnchors,
      ...(config.intermediates === undefined ? {} : { intermediates: config.intermediates }),
    });
    this.#revoked = new Set((config.revokedSerials ?? []).map((s) => s.toUpperCase()));
    const cas = [...config.trustAnchors, ...(config.intermediates ?? [])].map((der) => parseCertificate(der));
    this.#crls = new Map(
      (config.crls ?? []).map((der) => loadCrl(der, cas)).map((crl) => [crl.issuerKey, crl]),
    );
  }

  #status(serialHex: string, issuer: ParsedCertificate, nowMs: number): RevocationStatus {
    const serial = serialHex.toUpperCase();
    if (this.#revoked.has(serial)) return 'revoked';
    const crl = this.#crls.get(Buffer.from(issuer.subjectDer).toString('hex').toUpperCase());
    if (crl === undefined) return 'good';
    if (nowMs > crl.nextUpdateMs) return 'unknown';
    return crl.revoked.has(serial) ? 'revoked' : 'good';
  }

  verify(chain: readonly Uint8Array[], nowMs: number): DeviceCheck {
    const result = this.#verifier.verify({
      chain,
      nowMs,
      purpose: 'device',
      revocation: (serialHex, issuer) => this.#status(serialHex, issuer, nowMs),
    });
    if (result.status === 'invalid') return result;
    const leaf = chain[0] as Uint8Array;
    return {
      status: 'valid',
      serial: result.leaf.serialHex,
      fingerprint: createHash('sha256').update(leaf).digest('hex'),
      tenantId: result.leaf.deviceAttributes?.tenantId,
    };
  }
}
