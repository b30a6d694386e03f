import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { PkiError } from './pki-error.ts';

/** Curves Amulet accepts for any key it verifies (RFC 5480 section 2.1.1.1). */
const CURVES = new Set(['prime256v1', 'secp384r1']);

/** Imports a DER SubjectPublicKeyInfo, refusing anything but an EC key on P-256 or P-384. */
export function publicKeyFromSpki(spki: Uint8Array): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new PkiError('ERR_PKI_ALGORITHM', 'public key is not a valid SubjectPublicKeyInfo', { cause });
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve === undefined || !CURVES.has(curve)) {
    throw new PkiError('ERR_PKI_ALGORITHM', 'public key must be ECDSA P-256 or P-384');
  }
  return key;
}

/**
 * Verifies a DER ECDSA signature (RFC 3279 section 2.2.3). Returns false for any failure,
 * including a signature that does not parse: a verifier gives one fixed answer.
 */
export function verifyEcdsa(
  key: KeyObject,
  digest: 'sha256' | 'sha384',
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    return verify(digest, data, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}
