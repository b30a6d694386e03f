/**
 * Which issuer an authorization went to, kept after its full route has been dropped to make room
 * (`maxRoutes`), for as long as it may still be reversed (`routeTtlMs`). A reversal only needs
 * its issuer: the issuer finds the original by field 90 and field 41, not by the PAN. So nothing
 * here is card data. Each authorization is a 53-bit hash of its key, its time and its issuer's
 * number, in typed arrays (26 to 34 bytes each with the index), which the garbage collector does
 * not trace.
 *
 * The entries form a ring in the order they were remembered, oldest evicted first when the ring is
 * full, and the index is an open-addressing table (linear probing, deletion by backward shift).
 * Two keys that share all 53 bits would send a reversal to the other's issuer, which answers that
 * it knows no such original; with a million entries that is about one chance in 18,000.
 */
export class IssuerMemory {
  readonly #capacity: number;
  readonly #ttlMs: number;
  /** Ring slots: the key's hash (high 21 bits, low 32 bits), when, and the issuer's number. */
  readonly #high: Uint32Array;
  readonly #low: Uint32Array;
  readonly #at: Float64Array;
  readonly #issuer: Uint16Array;
  #oldest = 0;
  #count = 0;
  /** Index: ring slot + 1, or 0 for empty; at least twice as many places as the ring. */
  readonly #table: Int32Array;
  readonly #mask: number;
  readonly #names: string[] = [];
  readonly #numbers = new Map<string, number>();

  constructor(capacity: number, ttlMs: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
    this.#capacity = capacity;
    this.#ttlMs = ttlMs;
    this.#high = new Uint32Array(capacity);
    this.#low = new Uint32Array(capacity);
    this.#at = new Float64Array(capacity);
    this.#issuer = new Uint16Array(capacity);
    let size = 2;
    while (size < 2 * capacity) size *= 2;
    this.#table = new Int32Array(size);
    this.#mask = size - 1;
  }

  get size(): number {
    return this.#count;
  }

  remember(key: string, issuer: string, at: number): void {
    this.#expire(at);
    if (this.#count === this.#capacity) this.#evictOldest();
    let number = this.#numbers.get(issuer);
    if (number === undefined) {
      if (this.#names.length > 0xffff) return; // more issuers than any switch routes to: not kept
      number = this.#names.length;
      this.#names.push(issuer);
      this.#numbers.set(issuer, number);
    }
    const slot = (this.#oldest + this.#count) % this.#capacity;
    const [high, low] = hashKey(key);
    this.#high[slot] = high;
    this.#low[slot] = low;
    this.#at[slot] = at;
    this.#issuer[slot] = number;
    this.#count++;
    let i = low & this.#mask;
    while (this.#table[i] !== 0) i = (i + 1) & this.#mask;
    this.#table[i] = slot + 1;
  }

  /** The issuer the authorization with this key went to, if it is still within `ttlMs`. */
  issuerOf(key: string, now: number): string | undefined {
    this.#expire(now);
    const [high, low] = hashKey(key);
    for (let i = low & this.#mask; this.#table[i] !== 0; i = (i + 1) & this.#mask) {
      const slot = this.#table[i]! - 1;
      if (this.#low[slot] === low && this.#high[slot] === high) return this.#names[this.#issuer[slot]!];
    }
    return undefined;
  }

  #expire(now: number): void {
    while (this.#count > 0 && now - this.#at[this.#oldest]! > this.#ttlMs) this.#evictOldest();
  }

  #evictOldest(): void {
    const slot = this.#oldest;
    let i = this.#low[slot]! & this.#mask;
    while (this.#table[i] !== slot + 1) i = (i + 1) & this.#mask;
    // Backward shift: move later entries of the same run into the gap, so probing never stops
    // early at a hole in front of an entry that belongs after it.
    let j = i;
    for (;;) {
      j = (j + 1) & this.#mask;
      const moved = this.#table[j]!;
      if (moved === 0) break;
      const home = this.#low[moved - 1]! & this.#mask;
      const between = i <= j ? i < home && home <= j : i < home || home <= j;
      if (!between) {
        this.#table[i] = moved;
        i = j;
      }
    }
    this.#table[i] = 0;
    this.#oldest = (this.#oldest + 1) % this.#capacity;
    this.#count--;
  }
}

/**
 * Two 32-bit hashes of the key: FNV-1a, and an FNV-style one with another start and multiplier
 * and a final mix. 21 bits of the first are kept, as the high part of 53.
 */
function hashKey(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x0100019d);
  }
  b ^= b >>> 15;
  b = Math.imul(b, 0x2c1b3c6d);
  b ^= b >>> 12;
  return [(a >>> 0) & 0x1fffff, b >>> 0];
}
