import { DER_TAG, derChildren, readDerTop } from './der.ts';
import { PkiError } from './pki-error.ts';
import type { Signer } from './signer.ts';

/**
 * Asks a signer to sign and checks that it answered with a DER ECDSA-Sig-Value
 * (RFC 3279 section 2.2.3: SEQUENCE { r INTEGER, s INTEGER }), so a broken HSM binding fails
 * here and not later in a verifier.
 */
export async function signDer(signer: Signer, data: Uint8Array): Promise<Uint8Array> {
  const signature = await signer.sign(data);
  try {
    const top = readDerTop(signature, DER_TAG.sequence, 'signature');
    const parts = derChildren(signature, top);
    if (parts.length !== 2 || parts.some((part) => part.tag !== DER_TAG.integer)) throw new Error('shape');
  } catch (cause) {
    throw new PkiError('ERR_PKI_SIGNER', 'signer did not return a DER ECDSA signature', { cause });
  }
  return signature;
}
