import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Hsm } from '@amulet/hsm';
import type { RandomBytes } from './random-source.ts';

/** The HSM keys the issuer uses: an AES KEK for data keys, and an AES CMAC key for lookups and OTP hashes. */
export interface IssuerKeys {
  readonly kekId: string;
  readonly macKeyId: string;
}

/** Creates the issuer's keys in the HSM unless they exist. */
export async function ensureIssuerKeys(
  hsm: Hsm,
  keys: IssuerKeys = { kekId: 'issuer-data-kek', macKeyId: 'issuer-lookup-mac' },
): Promise<IssuerKeys> {
  const has = async (id: string): Promise<boolean> =>
    hsm.getKey(id).then(
      () => true,
      () => false,
    );
  if (!(await has(keys.kekId)))
    await hsm.generateKey({ keyId: keys.kekId, algorithm: 'aes', length: 32, usage: 'data-key-wrap' });
  if (!(await has(keys.macKeyId)))
    await hsm.generateKey({ keyId: keys.macKeyId, algorithm: 'aes', length: 32, usage: 'mac' });
  return keys;
}

export interface Sealed {
  readonly ciphertext: Uint8Array;
  readonly wrappedDataKey: Uint8Array;
  readonly wrappingKeyId: string;
}

const encoder = new TextEncoder();

/**
 * Envelope encryption, as the token vault does it: a fresh data key from the HSM (wrapped under
 * the KEK, RFC 3394), AES-256-GCM over the data with a 12-byte nonce from the random source and the
 * purpose as associated data. Stored: nonce || tag || ciphertext, and the wrapped key.
 */
export async function seal(
  hsm: Hsm,
  keys: IssuerKeys,
  random: RandomBytes,
  purpose: string,
  plaintext: Uint8Array,
): Promise<Sealed> {
  const dataKey = await hsm.generateDataKey({ kekId: keys.kekId, length: 32 });
  try {
    const nonce = random(12);
    const cipher = createCipheriv('aes-256-gcm', dataKey.plaintext, nonce);
    cipher.setAAD(encoder.encode(purpose));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const ciphertext = new Uint8Array(Buffer.concat([nonce, cipher.getAuthTag(), body]));
    return { ciphertext, wrappedDataKey: new Uint8Array(dataKey.wrapped), wrappingKeyId: dataKey.kekId };
  } finally {
    dataKey.plaintext.fill(0);
  }
}

export async function open(hsm: Hsm, purpose: string, sealed: Sealed): Promise<Uint8Array> {
  const key = await hsm.decryptDataKey({ kekId: sealed.wrappingKeyId, wrapped: sealed.wrappedDataKey });
  try {
    const s = Buffer.from(sealed.ciphertext);
    const decipher = createDecipheriv('aes-256-gcm', key, s.subarray(0, 12));
    decipher.setAAD(encoder.encode(purpose));
    decipher.setAuthTag(s.subarray(12, 28));
    return new Uint8Array(Buffer.concat([decipher.update(s.subarray(28)), decipher.final()]));
  } finally {
    key.fill(0);
  }
}

export const panPurpose = 'amulet-issuer-pan/1';

/** The keyed hash a card is found by: AES-CMAC (NIST SP 800-38B) in the HSM over a labelled PAN. */
export function panLookup(hsm: Hsm, keys: IssuerKeys, pan: string): Promise<Uint8Array> {
  return hsm.generateMac({ keyId: keys.macKeyId, algorithm: 'cmac', data: encoder.encode(`pan|${pan}`) });
}

/** The stored form of a one-time passcode: AES-CMAC over the card's lookup and the code, so it cannot be guessed offline. */
export function otpHash(hsm: Hsm, keys: IssuerKeys, lookup: Uint8Array, code: string): Promise<Uint8Array> {
  return hsm.generateMac({
    keyId: keys.macKeyId,
    algorithm: 'cmac',
    data: encoder.encode(`otp|${Buffer.from(lookup).toString('hex')}|${code}`),
  });
}
