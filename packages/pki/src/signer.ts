import { OID } from './oids.ts';

/** The two signature algorithms Amulet's CAs and devices use (RFC 7518 names). */
export type SignatureAlgorithm = 'ES256' | 'ES384';

/**
 * A private key that signs without showing itself: a software keystore, a PKCS#11 HSM, a
 * device's secure element. Nothing in @amulet/pki ever needs the private key, only this.
 */
export interface Signer {
  readonly algorithm: SignatureAlgorithm;
  /** The public key as a DER SubjectPublicKeyInfo (RFC 5280 section 4.1.2.7). */
  publicKeySpki(): Uint8Array;
  /**
   * Hashes `data` with SHA-256 (ES256) or SHA-384 (ES384) and signs it with ECDSA, returning
   * the DER `ECDSA-Sig-Value` of RFC 3279 section 2.2.3 (not raw r||s).
   */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** The X.509 signature algorithm identifier for a signer (RFC 5758 section 3.2). */
export function signatureOid(algorithm: SignatureAlgorithm): string {
  return algorithm === 'ES256' ? OID.ecdsaWithSha256 : OID.ecdsaWithSha384;
}

/** The node:crypto digest name for a signature algorithm OID, or undefined if not ours. */
export function digestForSignatureOid(oid: string): 'sha256' | 'sha384' | undefined {
  if (oid === OID.ecdsaWithSha256) return 'sha256';
  if (oid === OID.ecdsaWithSha384) return 'sha384';
  return undefined;
}
