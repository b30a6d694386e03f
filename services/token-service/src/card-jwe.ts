import { createDecipheriv, createHash, createPublicKey } from 'node:crypto';
import type { Hsm } from '@amulet/hsm';
import { isPan } from './numbers.ts';
import { TokenServiceError } from './token-service-error.ts';

/** The card data the companion app encrypts to the token service (the JWE plaintext, JSON). */
export interface CardData {
  readonly pan: string;
  /** YYMM. */
  readonly expiry: string;
  /** Card security code; checked by nobody here, never stored. */
  readonly cvv?: string;
  readonly cardholderName?: string;
}

/** The one algorithm pair accepted (RFC 7518 4.6 and 5.3): ECDH-ES with AES-256 key wrap, AES-256-GCM. */
export const JWE_ALG = 'ECDH-ES+A256KW';
export const JWE_ENC = 'A256GCM';
const JWE_BYTES_MAX = 8192;
const P256_SPKI_PREFIX = Buffer.from('3059301306072A8648CE3D020106082A8648CE3D030107034200', 'hex');

// One fixed failure for every way a JWE can be wrong, so nothing leaks (DESIGN.md invariant 3).
const failed = (): TokenServiceError =>
  new TokenServiceError('ERR_TSP_CARD_DATA', 'the card data could not be decrypted');

function b64url(text: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw failed();
  return Buffer.from(text, 'base64url');
}

function lengthPrefixed(value: Uint8Array): Buffer {
  const out = Buffer.alloc(4 + value.length);
  out.writeUInt32BE(value.length, 0);
  out.set(value, 4);
  return out;
}

/** RFC 7518 4.6.2: the Concat KDF of NIST SP 800-56A 5.8.1 with SHA-256, one round for 256 bits. */
export function concatKdf(z: Uint8Array, header: { apu?: string; apv?: string }): Buffer {
  const otherInfo = Buffer.concat([
    lengthPrefixed(Buffer.from(JWE_ALG, 'ascii')),
    lengthPrefixed(header.apu === undefined ? Buffer.alloc(0) : b64url(header.apu)),
    lengthPrefixed(header.apv === undefined ? Buffer.alloc(0) : b64url(header.apv)),
    Buffer.from([0, 0, 1, 0]), // SuppPubInfo: keydatalen = 256 bits
  ]);
  return createHash('sha256')
    .update(Buffer.from([0, 0, 0, 1]))
    .update(z)
    .update(otherInfo)
    .digest();
}

/**
 * Decrypts a compact JWE (RFC 7516 7.1) whose key agreement runs in the HSM: the private key
 * never leaves it; only the shared secret Z of this one message is used, then wiped.
 */
export async function decryptCardJwe(hsm: Hsm, keyId: string, jwe: string): Promise<CardData> {
  if (typeof jwe !== 'string' || jwe.length > JWE_BYTES_MAX) throw failed();
  const parts = jwe.split('.');
  if (parts.length !== 5) throw failed();
  const [protectedB64, encryptedKeyB64, ivB64, ciphertextB64, tagB64] = parts as [
    string,
    string,
    string,
    string,
    string,
  ];
  let header: {
    alg?: unknown;
    enc?: unknown;
    epk?: unknown;
    apu?: unknown;
    apv?: unknown;
    zip?: unknown;
    crit?: unknown;
  };
  try {
    header = JSON.parse(b64url(protectedB64).toString('utf8')) as typeof header;
  } catch {
    throw failed();
  }
  if (
    header.alg !== JWE_ALG ||
    header.enc !== JWE_ENC ||
    header.zip !== undefined ||
    header.crit !== undefined
  )
    throw failed();
  let z: Uint8Array | undefined;
  let kek: Buffer | undefined;
  let cek: Buffer | undefined;
  try {
    const epk = header.epk as { kty?: unknown; crv?: unknown; x?: unknown; y?: unknown } | undefined;
    if (epk?.kty !== 'EC' || epk.crv !== 'P-256' || typeof epk.x !== 'string' || typeof epk.y !== 'string')
      throw failed();
    const x = b64url(epk.x);
    const y = b64url(epk.y);
    if (x.length !== 32 || y.length !== 32) throw failed();
    // RFC 5480 SubjectPublicKeyInfo of the uncompressed point 04 || x || y; the HSM checks the point.
    const spki = Buffer.concat([P256_SPKI_PREFIX, Buffer.from([4]), x, y]);
    z = await hsm.deriveSharedSecret({ keyId, peerPublicKey: new Uint8Array(spki) });
    kek = concatKdf(z, {
      ...(typeof header.apu === 'string' ? { apu: header.apu } : {}),
      ...(typeof header.apv === 'string' ? { apv: header.apv } : {}),
    });
    // RFC 3394 AES key unwrap of the content encryption key.
    const unwrap = createDecipheriv('id-aes256-wrap', kek, Buffer.from('A6A6A6A6A6A6A6A6', 'hex'));
    cek = Buffer.concat([unwrap.update(b64url(encryptedKeyB64)), unwrap.final()]);
    if (cek.length !== 32) throw failed();
    const iv = b64url(ivB64);
    const tag = b64url(tagB64);
    if (iv.length !== 12 || tag.length !== 16) throw failed();
    const decipher = createDecipheriv('aes-256-gcm', cek, iv);
    // RFC 7516 5.2 step 14: the AAD is the ASCII of the encoded protected header.
    decipher.setAAD(Buffer.from(protectedB64, 'ascii'));
    decipher.setAuthTag(tag);
    const clear = Buffer.concat([decipher.update(b64url(ciphertextB64)), decipher.final()]);
    const card = JSON.parse(clear.toString('utf8')) as Partial<CardData>;
    clear.fill(0);
    if (typeof card.pan !== 'string' || !isPan(card.pan)) throw failed();
    if (typeof card.expiry !== 'string' || !/^\d{2}(0[1-9]|1[0-2])$/.test(card.expiry)) throw failed();
    return {
      pan: card.pan,
      expiry: card.expiry,
      ...(typeof card.cvv === 'string' ? { cvv: card.cvv } : {}),
      ...(typeof card.cardholderName === 'string' ? { cardholderName: card.cardholderName } : {}),
    };
  } catch {
    throw failed();
  } finally {
    z?.fill(0);
    kek?.fill(0);
    cek?.fill(0);
  }
}

/** The token service's JWE public key as a JWK (RFC 7517), for wallets and companion apps. */
export async function jwePublicJwk(hsm: Hsm, keyId: string): Promise<Record<string, string>> {
  const spki = await hsm.getPublicKey(keyId);
  const jwk = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({
    format: 'jwk',
  }) as { kty: string; crv: string; x: string; y: string };
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, use: 'enc', alg: JWE_ALG, kid: keyId };
}
