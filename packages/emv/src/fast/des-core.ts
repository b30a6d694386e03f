import { KEY_DOUBLE_SHIFTS, PC2_C_WORD0, PC2_TABLE, SP_TABLE } from './des-tables.ts';

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

// FIPS 46-3's IP factors into five exchanges of bit groups between the two words (each a "delta
// swap": the bits of `a` selected by mask << n trade places with the bits of `b` selected by
// mask), so IP and IP^-1 cost a few shifts and no table. The tests check them against the
// standard's table bit by bit.

/** IP of a block given as two big-endian words, into `desState`. */
export function desInitialPermutationWords(hi: number, lo: number): void {
  let t = ((hi >>> 4) ^ lo) & 0x0f0f0f0f;
  lo ^= t;
  hi ^= t << 4;
  t = ((hi >>> 16) ^ lo) & 0x0000ffff;
  lo ^= t;
  hi ^= t << 16;
  t = ((lo >>> 2) ^ hi) & 0x33333333;
  hi ^= t;
  lo ^= t << 2;
  t = ((lo >>> 8) ^ hi) & 0x00ff00ff;
  hi ^= t;
  lo ^= t << 8;
  t = ((hi >>> 1) ^ lo) & 0x55555555;
  desState[0] = hi ^ (t << 1);
  desState[1] = lo ^ t;
}

/**
 * IP^-1 of the preoutput R16 || L16 (FIPS 46-3) held in `desState` after `desRounds`; leaves
 * the output block's two big-endian words in `desState`.
 */
export function desFinalPermutation(): void {
  desFinalPermutationWords(desState[1]!, desState[0]!);
}

/** IP^-1 of the preoutput given as its two words (R16, then L16), into `desState`. */
export function desFinalPermutationWords(hi: number, lo: number): void {
  // The exchanges of desInitialPermutationWords in reverse order (each undoes itself).
  let t = ((hi >>> 1) ^ lo) & 0x55555555;
  lo ^= t;
  hi ^= t << 1;
  t = ((lo >>> 8) ^ hi) & 0x00ff00ff;
  hi ^= t;
  lo ^= t << 8;
  t = ((lo >>> 2) ^ hi) & 0x33333333;
  hi ^= t;
  lo ^= t << 2;
  t = ((hi >>> 16) ^ lo) & 0x0000ffff;
  lo ^= t;
  hi ^= t << 16;
  t = ((hi >>> 4) ^ lo) & 0x0f0f0f0f;
  desState[0] = hi ^ (t << 4);
  desState[1] = lo ^ t;
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
 *
 * Inside the loop both halves are held rotated left by 5 (as are the SP_TABLE entries, so the
 * xor into them keeps that form): then E's groups 0, 6, 4, 2 are the bytes of the half itself and
 * groups 1, 7, 5, 3 those of the half rotated by 4 more, one rotation per round instead of two.
 */
export function desRounds(schedule: Int32Array, offset: number): void {
  let l = rotateLeft5(desState[0]!);
  let r = rotateLeft5(desState[1]!);
  for (let i = offset, end = offset + 32; i < end; i += 4) {
    // Ln = Rn-1, Rn = Ln-1 xor f(Rn-1, Kn): two rounds per pass, so the halves never swap.
    let x = r ^ schedule[i]!;
    let y = ((r << 4) | (r >>> 28)) ^ schedule[i + 1]!;
    l ^= sBoxesAndP(x, y);
    x = l ^ schedule[i + 2]!;
    y = ((l << 4) | (l >>> 28)) ^ schedule[i + 3]!;
    r ^= sBoxesAndP(x, y);
  }
  desState[0] = rotateRight5(l);
  desState[1] = rotateRight5(r);
}

/**
 * The S-boxes and P of f(R, K) (FIPS 46-3), from the two words of E(R) xor K: `x` holds E's
 * groups 0, 6, 4, 2 in its bytes and `y` groups 1, 7, 5, 3 (the halves rotated as `desRounds`
 * explains). Small enough for V8 to inline into the round loops.
 */
function sBoxesAndP(x: number, y: number): number {
  const sp = SP_TABLE;
  return (
    sp[x & 63]! |
    sp[64 + ((x >>> 8) & 63)]! |
    sp[128 + ((x >>> 16) & 63)]! |
    sp[192 + ((x >>> 24) & 63)]! |
    sp[256 + (y & 63)]! |
    sp[320 + ((y >>> 8) & 63)]! |
    sp[384 + ((y >>> 16) & 63)]! |
    sp[448 + ((y >>> 24) & 63)]!
  );
}

function rotateLeft5(word: number): number {
  return (word << 5) | (word >>> 27);
}

function rotateRight5(word: number): number {
  return (word >>> 5) | (word << 27);
}

/**
 * Two blocks in flight under one key, for the independent encryptions of a key derivation (the
 * two halves of an ICC master key or of a session key): [0] and [1] are L and R of the first
 * block, [2] and [3] of the second.
 */
export const desPairState = new Int32Array(4);

/**
 * `desRounds` on both blocks of `desPairState` at once. Each DES round waits on the previous
 * one's table lookups; interleaving two blocks lets the processor overlap those waits.
 */
export function desPairRounds(schedule: Int32Array, offset: number): void {
  let l = rotateLeft5(desPairState[0]!);
  let r = rotateLeft5(desPairState[1]!);
  let l2 = rotateLeft5(desPairState[2]!);
  let r2 = rotateLeft5(desPairState[3]!);
  for (let i = offset, end = offset + 32; i < end; i += 4) {
    let k0 = schedule[i]!;
    let k1 = schedule[i + 1]!;
    let x = r ^ k0;
    let y = ((r << 4) | (r >>> 28)) ^ k1;
    let x2 = r2 ^ k0;
    let y2 = ((r2 << 4) | (r2 >>> 28)) ^ k1;
    l ^= sBoxesAndP(x, y);
    l2 ^= sBoxesAndP(x2, y2);
    k0 = schedule[i + 2]!;
    k1 = schedule[i + 3]!;
    x = l ^ k0;
    y = ((l << 4) | (l >>> 28)) ^ k1;
    x2 = l2 ^ k0;
    y2 = ((l2 << 4) | (l2 >>> 28)) ^ k1;
    r ^= sBoxesAndP(x, y);
    r2 ^= sBoxesAndP(x2, y2);
  }
  // Stored swapped: R16 L16 of one DES operation are L0 R0 of the next (IP^-1 then IP cancel).
  desPairState[0] = rotateRight5(r);
  desPairState[1] = rotateRight5(l);
  desPairState[2] = rotateRight5(r2);
  desPairState[3] = rotateRight5(l2);
}

/** Swaps the halves: R16 L16 of one DES operation are L0 R0 of the next (IP^-1 then IP cancel). */
export function desSwap(): void {
  const l = desState[0]!;
  desState[0] = desState[1]!;
  desState[1] = l;
}

/** C0 (low 28 bits of [0]) and D0 (of [1]) after `desPermutedChoice1`. */
export const desKeyHalves = new Int32Array(2);

/** Reverses the byte order of a word. */
function byteSwap(word: number): number {
  return (word >>> 24) | ((word >>> 8) & 0xff00) | ((word & 0xff00) << 8) | (word << 24);
}

/**
 * PC1 of FIPS 46-3 on the key given as two big-endian words, into `desKeyHalves`. Seen as an 8x8
 * bit matrix (row r = key byte r, column c = bit c of each byte, both from 1), C0 is columns 1, 2
 * and 3, each read from row 8 up to row 1, then column 4 from row 8 to row 5; D0 is columns 7, 6
 * and 5 read the same way, then column 4 from row 4 to row 1. Column 8 holds the parity bits,
 * which PC1 drops. So PC1 is the transpose of the matrix with its rows reversed: a byte swap and
 * three rounds of bit exchanges. The tests check it against the standard's table.
 */
export function desPermutedChoice1(hi: number, lo: number): void {
  // Rows reversed: byte 7 becomes row 0.
  let top = byteSwap(lo);
  let bottom = byteSwap(hi);
  // Transpose (exchange 1x1, 2x2, then 4x4 blocks across the diagonal).
  let t = (top ^ (top >>> 7)) & 0x00aa00aa;
  top ^= t ^ (t << 7);
  t = (bottom ^ (bottom >>> 7)) & 0x00aa00aa;
  bottom ^= t ^ (t << 7);
  t = (top ^ (top >>> 14)) & 0x0000cccc;
  top ^= t ^ (t << 14);
  t = (bottom ^ (bottom >>> 14)) & 0x0000cccc;
  bottom ^= t ^ (t << 14);
  t = (bottom ^ (top << 4)) & 0xf0f0f0f0;
  bottom ^= t;
  top ^= t >>> 4;
  // Byte n of top || bottom is now column n + 1, last row first.
  desKeyHalves[0] = top >>> 4;
  desKeyHalves[1] =
    ((bottom & 0xff00) << 12) | ((bottom >>> 4) & 0xff000) | ((bottom >>> 20) & 0xff0) | (top & 15);
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
  desPermutedChoice1(hi, lo);
  let cHalf = desKeyHalves[0]!;
  let dHalf = desKeyHalves[1]!;
  const pc2 = PC2_TABLE;
  const step = decrypt ? -2 : 2;
  let at = decrypt ? offset + 30 : offset;
  for (let round = 0; round < 16; round++) {
    // FIPS 46-3: Cn and Dn are Cn-1 and Dn-1 rotated left by one or two places.
    const shift = 1 + ((KEY_DOUBLE_SHIFTS >>> round) & 1);
    cHalf = ((cHalf << shift) | (cHalf >>> (28 - shift))) & 0x0fffffff;
    dHalf = ((dHalf << shift) | (dHalf >>> (28 - shift))) & 0x0fffffff;
    // PC2: four entries per half, then word 0's bytes taken from each (see PC2_TABLE).
    const fromC =
      pc2[cHalf >>> 21]! |
      pc2[128 + ((cHalf >>> 14) & 127)]! |
      pc2[256 + ((cHalf >>> 7) & 127)]! |
      pc2[384 + (cHalf & 127)]!;
    const fromD =
      pc2[512 + (dHalf >>> 21)]! |
      pc2[640 + ((dHalf >>> 14) & 127)]! |
      pc2[768 + ((dHalf >>> 7) & 127)]! |
      pc2[896 + (dHalf & 127)]!;
    const swap = (fromC ^ fromD) & PC2_C_WORD0;
    const word1 = fromC ^ swap;
    out[at] = fromD ^ swap;
    out[at + 1] = (word1 << 16) | (word1 >>> 16);
    at += step;
  }
}

/** Reads 4 bytes big-endian. */
export function readWord(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
}
