import { createECDH, createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { concat } from '@amulet/bytes';
import { publicKeyFromSpki } from '@amulet/pki';
import { SecureElementError } from './secure-element-error.ts';

/**
 * The NIST P-256 operations the SE and its host need (FIPS 186-5, SEC 1 v2), over node:crypto.
 * Points are uncompressed (SEC 1 section 2.3.3: 04 || X || Y, 65 bytes); private keys are the
 * 32-byte scalar. Randomness comes from the caller.
 */

/** The order n of the P-256 base point (FIPS 186-5 / SP 800-186 section 3.2.1.3). */
const ORDER = BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');
export const P256_POINT_BYTES = 65;

const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

/**
 * A private scalar in [1, n-1] from the random source, by rejection sampling (FIPS 186-5
 * Appendix A.2.2, "testing candidates"): a candidate out of range is drawn again.
 */
export function generatePrivateScalar(rng: (n: number) => Uint8Array): Uint8Array {
  for (let attempt = 0; attempt < 64; attempt++) {
    const candidate = rng(32);
    const value = BigInt(`0x${Buffer.from(candidate).toString('hex')}`);
    if (candidate.length === 32 && value > 0n && value < ORDER) return candidate.slice();
  }
  throw new SecureElementError('ERR_SE_RANDOM', 'the random source gives no usable P-256 scalar');
}

/** The public point of a private scalar. */
export function publicPoint(privateScalar: Uint8Array): Uint8Array {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(privateScalar);
  return new Uint8Array(ecdh.getPublicKey());
}

/**
 * ECDH (SEC 1 section 3.3.1, the x-coordinate of d * Q). A point that is not on the curve, the
 * wrong size, or compressed is refused with one fixed error.
 */
export function ecdh(privateScalar: Uint8Array, peerPoint: Uint8Array): Uint8Array {
  if (peerPoint.length !== P256_POINT_BYTES || peerPoint[0] !== 0x04)
    throw new SecureElementError('ERR_SE_POINT', 'the public key is not an uncompressed P-256 point');
  try {
    const agreement = createECDH('prime256v1');
    agreement.setPrivateKey(privateScalar);
    return new Uint8Array(agreement.computeSecret(peerPoint));
  } catch {
    throw new SecureElementError('ERR_SE_POINT', 'the public key is not an uncompressed P-256 point');
  }
}

function privateKeyObject(privateScalar: Uint8Array): KeyObject {
  const point = publicPoint(privateScalar);
  return createPrivateKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      d: b64url(privateScalar),
      x: b64url(point.subarray(1, 33)),
      y: b64url(point.subarray(33)),
    },
    format: 'jwk',
  });
}

/** ECDSA with SHA-256, DER `ECDSA-Sig-Value` (RFC 3279 section 2.2.3). */
export function signP256(privateScalar: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(sign('sha256', data, { key: privateKeyObject(privateScalar), dsaEncoding: 'der' }));
}

/** The DER SubjectPublicKeyInfo of a point (RFC 5480 section 2). */
export function spkiFromPoint(point: Uint8Array): Uint8Array {
  if (point.length !== P256_POINT_BYTES || point[0] !== 0x04)
    throw new SecureElementError('ERR_SE_POINT', 'the public key is not an uncompressed P-256 point');
  try {
    const key = createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33)) },
      format: 'jwk',
    });
    return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
  } catch {
    throw new SecureElementError('ERR_SE_POINT', 'the public key is not an uncompressed P-256 point');
  }
}

/** The uncompressed point of a P-256 SubjectPublicKeyInfo; anything else is refused. */
export function pointFromSpki(spki: Uint8Array): Uint8Array {
  const key = publicKeyFromSpki(spki);
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'P-256' || jwk.x === undefined || jwk.y === undefined)
    throw new SecureElementError('ERR_SE_POINT', 'the public key is not a P-256 key');
  return concat(Uint8Array.of(0x04), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url'));
}
