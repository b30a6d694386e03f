import { concat } from '@amulet/bytes';
import {
  type ChainFailure,
  type ChainVerifier,
  type ChainVerifierConfig,
  createChainVerifier,
  type RevocationLookup,
} from './chain-verifier.ts';
import type { DeviceAttributes } from './device-attributes.ts';
import type { NameFields } from './distinguished-name.ts';
import { verifyEcdsa } from './ecdsa-verify.ts';

/** Why an attestation is refused, in check order (docs/root-of-trust.md, "Attestation"). */
export type AttestationFailure = ChainFailure | 'stale-nonce';

export type AttestationResult =
  | {
      readonly status: 'valid';
      readonly device: {
        readonly certificateSerialHex: string;
        readonly subject: NameFields;
        readonly attributes: DeviceAttributes | undefined;
      };
    }
  | { readonly status: 'invalid'; readonly reason: AttestationFailure };

export interface AttestationInput {
  /** The device certificate first, then its device CA. */
  readonly chain: readonly Uint8Array[];
  /** The device's DER ECDSA signature over `attestationMessage(nonce, context)`. */
  readonly signature: Uint8Array;
  readonly nonce: Uint8Array;
  readonly context: Uint8Array;
  readonly nowMs: number;
  readonly revocation: RevocationLookup;
  /** Consumes a nonce the server issued: true once for a fresh nonce, false if unknown, used or old. */
  readonly consumeNonce: (nonce: Uint8Array) => boolean;
}

export const ATTESTATION_NONCE_BYTES = { min: 16, max: 64 } as const;
export const ATTESTATION_CONTEXT_BYTES_MAX = 256;
const LABEL = new TextEncoder().encode('AMULET-ATTEST-V1\0');

function u16(n: number): Uint8Array {
  return Uint8Array.of(n >> 8, n & 0xff);
}

/** The bytes a device signs: label || u16 len || nonce || u16 len || context (docs/root-of-trust.md). */
export function attestationMessage(nonce: Uint8Array, context: Uint8Array): Uint8Array {
  return concat(LABEL, u16(nonce.length), nonce, u16(context.length), context);
}

export interface AttestationVerifier {
  verify(input: AttestationInput): AttestationResult;
}

/**
 * Verifies a device's answer to a server challenge. Checks, in order: malformed input, the chain
 * (unknown-ca, bad-signature, wrong-tenant, not-yet-valid, expired, wrong-key-usage, revoked),
 * stale-nonce, then the device's signature (bad-signature). The first failure is the answer.
 */
export function createAttestationVerifier(config: ChainVerifierConfig): AttestationVerifier {
  const chains: ChainVerifier = createChainVerifier(config);
  return {
    verify(input) {
      const invalid = (reason: AttestationFailure): AttestationResult => ({ status: 'invalid', reason });
      const { nonce, context } = input;
      if (
        nonce.length < ATTESTATION_NONCE_BYTES.min ||
        nonce.length > ATTESTATION_NONCE_BYTES.max ||
        context.length > ATTESTATION_CONTEXT_BYTES_MAX
      ) {
        return invalid('malformed');
      }
      const chain = chains.verify({
        chain: input.chain,
        nowMs: input.nowMs,
        purpose: 'device',
        revocation: input.revocation,
      });
      if (chain.status === 'invalid') return chain;
      if (!input.consumeNonce(nonce)) return invalid('stale-nonce');
      const leaf = chain.leaf;
      // The curve from the point's size (SEC 1 section 2.3.3: P-384 is 97 bytes uncompressed, 49
      // compressed), not from KeyObject.asymmetricKeyDetails, which is rebuilt on every read.
      const bits = leaf.publicKeyBits.length;
      const digest = bits === 97 || bits === 49 ? 'sha384' : 'sha256';
      if (!verifyEcdsa(leaf.publicKey, digest, attestationMessage(nonce, context), input.signature)) {
        return invalid('bad-signature');
      }
      return {
        status: 'valid',
        device: {
          certificateSerialHex: leaf.serialHex,
          subject: leaf.subject,
          attributes: leaf.deviceAttributes,
        },
      };
    },
  };
}

/** One-shot form of `createAttestationVerifier(config).verify(input)`; keep a verifier to reuse its cache. */
export function verifyAttestation(input: AttestationInput & ChainVerifierConfig): AttestationResult {
  return createAttestationVerifier(input).verify(input);
}
