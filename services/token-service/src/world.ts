/** The world the token service runs in, injected (DESIGN.md invariant 11). */
export interface World {
  /** Wall-clock time. */
  readonly now: () => Date;
  /** `n` random bytes. */
  readonly random: (n: number) => Uint8Array;
}

/** A random identifier with a prefix: `tok_` followed by 24 lower-case hex digits. */
export function newId(world: World, prefix: string): string {
  return `${prefix}_${Buffer.from(world.random(12)).toString('hex')}`;
}

/** A uniform integer in [0, bound), by rejection sampling on 32-bit draws. */
export function randomBelow(world: World, bound: number): number {
  if (!Number.isInteger(bound) || bound <= 0 || bound > 2 ** 32) throw new RangeError('bound out of range');
  const limit = 2 ** 32 - (2 ** 32 % bound);
  for (;;) {
    const b = world.random(4);
    const n = ((b[0] ?? 0) * 2 ** 24 + ((b[1] ?? 0) << 16) + ((b[2] ?? 0) << 8) + (b[3] ?? 0)) >>> 0;
    if (n < limit) return n % bound;
  }
}

/**
 * `count` uniform integers in [0, bound) for a bound up to 256, by rejection sampling on bytes
 * drawn a batch at a time (one call to the random source instead of one per value).
 */
export function randomBelowMany(world: World, bound: number, count: number): number[] {
  if (!Number.isInteger(bound) || bound <= 0 || bound > 256) throw new RangeError('bound out of range');
  const limit = 256 - (256 % bound);
  const out: number[] = [];
  while (out.length < count) {
    const bytes = world.random(count - out.length + 8);
    for (let i = 0; i < bytes.length && out.length < count; i++) {
      const b = bytes[i] ?? 0;
      if (b < limit) out.push(b % bound);
    }
  }
  return out;
}
