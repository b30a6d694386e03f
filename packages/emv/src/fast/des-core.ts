import {
  FP_TABLE,
  IP_TABLE,
  KEY_SHIFTS,
  PC1_TABLE,
  PC2_TABLE,
  SP0,
  SP1,
  SP2,
  SP3,
  SP4,
  SP5,
  SP6,
  SP7,
} from './des-tables.ts';

// The DES engine shared by the block functions and the cryptogram verifier. A block in flight is
// kept as its two halves after IP, in `desState` ([0] = L, [1] = R), so chained operations (triple
// DES, CBC-MAC) skip IP^-1 followed by IP, which cancel (FIPS 46-3: the output is IP^-1(R16 L16)).

/** The working block: L and R after IP, or the two output words after `desFinalPermutation`. */
export const desState = new Int32Array(2);

/** Round keys per DES key: 16 rounds of two words (see des-tables.ts for their layout). */
export const DES_SCHEDULE_LENGTH = 32;

/** IP of 8 bytes at `offset` into `desState`. */
export function desInitialPermutation(bytes: Uint8Array, offset: number): void {
  desInitialPermutationWords(
    (bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!,
    (bytes[offset + 4]! << 24) | (bytes[offset + 5]! << 16) | (bytes[offset + 6]! << 8) | bytes[offset + 7]!,
  );
}

/** IP of a block given as two big-endian words, into `desState`. */
export function desInitialPermutationWords(hi: number, lo: number): void {
  const t = IP_TABLE;
  const a = hi >>> 24;
  const b = 256 + ((hi >>> 16) & 255);
  const c = 512 + ((hi >>> 8) & 255);
  const d = 768 + (hi & 255);
  const e = 1024 + (lo >>> 24);
  const f = 1280 + ((lo >>> 16) & 255);
  const g = 1536 + ((lo >>> 8) & 255);
  const h = 1792 + (lo & 255);
  desState[0] = t[a]! | t[b]! | t[c]! | t[d]! | t[e]! | t[f]! | t[g]! | t[h]!;
  desState[1] =
    t[2048 + a]! |
    t[2048 + b]! |
    t[2048 + c]! |
    t[2048 + d]! |
    t[2048 + e]! |
    t[2048 + f]! |
    t[2048 + g]! |
    t[2048 + h]!;
}

/**
 * IP^-1 of the preoutput R16 || L16 (FIPS 46-3) held in `desState` after `desRounds`; leaves
 * the output block's two big-endian words in `desState`.
 */
export function desFinalPermutation(): void {
  const t = FP_TABLE;
  const hi = desState[1]!; // R16
  const lo = desState[0]!; // L16
  const a = hi >>> 24;
  const b = 256 + ((hi >>> 16) & 255);
  const c = 512 + ((hi >>> 8) & 255);
  const d = 768 + (hi & 255);
  const e = 1024 + (lo >>> 24);
  const f = 1280 + ((lo >>> 16) & 255);
  const g = 1536 + ((lo >>> 8) & 255);
  const h = 1792 + (lo & 255);
  desState[0] = t[a]! | t[b]! | t[c]! | t[d]! | t[e]! | t[f]! | t[g]! | t[h]!;
  desState[1] =
    t[2048 + a]! |
    t[2048 + b]! |
    t[2048 + c]! |
    t[2048 + d]! |
    t[2048 + e]! |
    t[2048 + f]! |
    t[2048 + g]! |
    t[2048 + h]!;
}

/** Writes the two words in `desState` as 8 big-endian bytes. */
export function desStoreState(out: Uint8Array, offset: number): void {
  const hi = desState[0]!;
  const lo = desState[1]!;
  out[offset] = hi >>> 24;
  out[offset + 1] = hi >>> 16;
  out[offset + 2] = hi >>> 8;
  out[offset + 3] = hi;
  out[offset + 4] = lo >>> 24;
  out[offset + 5] = lo >>> 16;
  out[offset + 6] = lo >>> 8;
  out[offset + 7] = lo;
}

/**
 * The 16 rounds of FIPS 46-3 on `desState` under the 32 round-key words at `offset`, in the
 * order they are stored (reversed order decrypts). Leaves L16 in [0] and R16 in [1].
 */
export function desRounds(schedule: Int32Array, offset: number): void {
  let l = desState[0]!;
  let r = desState[1]!;
  for (let i = offset, end = offset + 32; i < end; i += 4) {
    // Ln = Rn-1, Rn = Ln-1 xor f(Rn-1, Kn): two rounds per pass, so the halves never swap.
    let x = ((r << 5) | (r >>> 27)) ^ schedule[i]!;
    let y = ((r << 9) | (r >>> 23)) ^ schedule[i + 1]!;
    l ^=
      SP0[x & 63]! |
      SP6[(x >>> 8) & 63]! |
      SP4[(x >>> 16) & 63]! |
      SP2[(x >>> 24) & 63]! |
      SP1[y & 63]! |
      SP7[(y >>> 8) & 63]! |
      SP5[(y >>> 16) & 63]! |
      SP3[(y >>> 24) & 63]!;
    x = ((l << 5) | (l >>> 27)) ^ schedule[i + 2]!;
    y = ((l << 9) | (l >>> 23)) ^ schedule[i + 3]!;
    r ^=
      SP0[x & 63]! |
      SP6[(x >>> 8) & 63]! |
      SP4[(x >>> 16) & 63]! |
      SP2[(x >>> 24) & 63]! |
      SP1[y & 63]! |
      SP7[(y >>> 8) & 63]! |
      SP5[(y >>> 16) & 63]! |
      SP3[(y >>> 24) & 63]!;
  }
  desState[0] = l;
  desState[1] = r;
}

/** Swaps the halves: R16 L16 of one DES operation are L0 R0 of the next (IP^-1 then IP cancel). */
export function desSwap(): void {
  const l = desState[0]!;
  desState[0] = desState[1]!;
  desState[1] = l;
}

/**
 * FIPS 46-3 key schedule of the DES key given as two big-endian words (parity bits ignored):
 * 32 words at `offset`, in encryption order, or in decryption order when `decrypt` is set.
 */
export function desScheduleWords(
  hi: number,
  lo: number,
  out: Int32Array,
  offset: number,
  decrypt: boolean,
): void {
  const t = PC1_TABLE;
  const a = hi >>> 24;
  const b = 256 + ((hi >>> 16) & 255);
  const c = 512 + ((hi >>> 8) & 255);
  const d = 768 + (hi & 255);
  const e = 1024 + (lo >>> 24);
  const f = 1280 + ((lo >>> 16) & 255);
  const g = 1536 + ((lo >>> 8) & 255);
  const h = 1792 + (lo & 255);
  let cHalf = t[a]! | t[b]! | t[c]! | t[d]! | t[e]! | t[f]! | t[g]! | t[h]!;
  let dHalf =
    t[2048 + a]! |
    t[2048 + b]! |
    t[2048 + c]! |
    t[2048 + d]! |
    t[2048 + e]! |
    t[2048 + f]! |
    t[2048 + g]! |
    t[2048 + h]!;
  const pc2 = PC2_TABLE;
  for (let round = 0; round < 16; round++) {
    const shift = KEY_SHIFTS[round]!;
    cHalf = ((cHalf << shift) | (cHalf >>> (28 - shift))) & 0x0fffffff;
    dHalf = ((dHalf << shift) | (dHalf >>> (28 - shift))) & 0x0fffffff;
    const c0 = ((cHalf >>> 21) & 127) << 1;
    const c1 = (128 + ((cHalf >>> 14) & 127)) << 1;
    const c2 = (256 + ((cHalf >>> 7) & 127)) << 1;
    const c3 = (384 + (cHalf & 127)) << 1;
    const d0 = (512 + ((dHalf >>> 21) & 127)) << 1;
    const d1 = (640 + ((dHalf >>> 14) & 127)) << 1;
    const d2 = (768 + ((dHalf >>> 7) & 127)) << 1;
    const d3 = (896 + (dHalf & 127)) << 1;
    const at = offset + 2 * (decrypt ? 15 - round : round);
    out[at] = pc2[c0]! | pc2[c1]! | pc2[c2]! | pc2[c3]! | pc2[d0]! | pc2[d1]! | pc2[d2]! | pc2[d3]!;
    out[at + 1] =
      pc2[c0 + 1]! |
      pc2[c1 + 1]! |
      pc2[c2 + 1]! |
      pc2[c3 + 1]! |
      pc2[d0 + 1]! |
      pc2[d1 + 1]! |
      pc2[d2 + 1]! |
      pc2[d3 + 1]!;
  }
}

/** Reads 4 bytes big-endian. */
export function readWord(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
}
