import { createHash, hash as oneShotHash, scrypt, timingSafeEqual } from 'node:crypto';

/** A random source: n bytes (tests pass a seeded one, DESIGN.md invariant 11). */
export type RandomSource = (bytes: number) => Uint8Array;

/** scrypt cost (RFC 7914). Production default N = 2^15, r = 8, p = 1: about 32 MiB per hash. */
export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

export const SCRYPT_DEFAULT: ScryptParams = { N: 1 << 15, r: 8, p: 1 };
const SALT_BYTES = 16;
const HASH_BYTES = 32;

function scryptAsync(secret: string, salt: Uint8Array, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      secret.normalize('NFKC'),
      salt,
      HASH_BYTES,
      { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + (1 << 20) },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

/** `scrypt$N$r$p$salt$hash` (base64url): the parameters travel with the hash, so they can be raised later. */
export async function hashPassword(
  password: string,
  params: ScryptParams,
  random: RandomSource,
): Promise<string> {
  const salt = random(SALT_BYTES);
  const key = await scryptAsync(password, salt, params);
  return [
    'scrypt',
    params.N,
    params.r,
    params.p,
    Buffer.from(salt).toString('base64url'),
    key.toString('base64url'),
  ].join('$');
}

/** Verifies in constant time; a hash that does not parse never verifies. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 1 << 20) return false;
  const expected = Buffer.from(parts[5]!, 'base64url');
  const key = await scryptAsync(password, Buffer.from(parts[4]!, 'base64url'), { N, r, p });
  return expected.length === key.length && timingSafeEqual(expected, key);
}

export function sha256Hex(...parts: (string | Uint8Array)[]): string {
  // One part (a session credential on every request): the one-shot form builds no Hash object.
  if (parts.length === 1) return oneShotHash('sha256', parts[0]!, 'hex');
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

/** Compares two secrets in constant time over their SHA-256 digests (lengths may differ). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** An identifier: a prefix and 16 random bytes, base64url. */
export function newId(random: RandomSource, prefix: string): string {
  return `${prefix}_${Buffer.from(random(16)).toString('base64url')}`;
}

/** A credential: 32 random bytes, base64url, with a prefix saying what it is. */
export function newCredential(random: RandomSource, prefix: string): string {
  return `${prefix}_${Buffer.from(random(32)).toString('base64url')}`;
}
