/**
 * A source of random bytes that asks the platform's CSPRNG (Web Crypto `getRandomValues`) for a
 * pool at a time and hands it out in slices. Each call to the CSPRNG costs about 4 µs on the
 * development machine whatever its size up to 4 KiB, so a 14-byte identifier drawn on its own
 * cost that much on every authorization; from the pool it costs well under a microsecond.
 *
 * Bytes handed out are zeroed in the pool, so they stay only with the caller. The bytes not yet
 * handed out sit in process memory as the CSPRNG's own state does, and whoever can read the one
 * can read the other: a draw from the pool is as unpredictable as a draw from the CSPRNG.
 */
export type RandomBytes = (length: number) => Uint8Array;

/** Most bytes one Web Crypto call fills (its QuotaExceededError limit). */
const WEB_CRYPTO_MAX = 65_536;

export function randomPool(poolBytes = 4096): RandomBytes {
  if (!Number.isInteger(poolBytes) || poolBytes < 16 || poolBytes > WEB_CRYPTO_MAX)
    throw new RangeError('a random pool holds 16 to 65,536 bytes');
  const pool = new Uint8Array(poolBytes);
  let next = poolBytes;
  return (length) => {
    if (!Number.isInteger(length) || length < 0)
      throw new RangeError('a length of random bytes is a whole number');
    // A large draw goes straight to the CSPRNG: it would empty the pool and gain nothing.
    if (length > poolBytes >> 2) {
      const out = new Uint8Array(length);
      for (let at = 0; at < length; at += WEB_CRYPTO_MAX)
        globalThis.crypto.getRandomValues(out.subarray(at, Math.min(length, at + WEB_CRYPTO_MAX)));
      return out;
    }
    if (next + length > poolBytes) {
      globalThis.crypto.getRandomValues(pool);
      next = 0;
    }
    const out = pool.slice(next, next + length);
    pool.fill(0, next, next + length);
    next += length;
    return out;
  };
}
