import { RCON, SBOX, T0, T1, T2, T3 } from './aes-tables.ts';

// The AES-128 engine shared by the block function and the cryptogram verifier. A block in flight
// is four big-endian column words in `aesState`.

/** The working block: four big-endian words (columns of the FIPS 197 state). */
export const aesState = new Int32Array(4);

/** FIPS 197 5.2: AES-128 expands to 44 words (11 round keys). */
export const AES128_SCHEDULE_LENGTH = 44;

/** FIPS 197 5.2 KeyExpansion of the key given as four big-endian words, into `out` at `offset`. */
export function aes128ExpandWords(
  k0: number,
  k1: number,
  k2: number,
  k3: number,
  out: Int32Array,
  offset: number,
): void {
  const s = SBOX;
  out[offset] = k0;
  out[offset + 1] = k1;
  out[offset + 2] = k2;
  out[offset + 3] = k3;
  for (let i = 0, at = offset + 4; i < 10; i++, at += 4) {
    // temp = SubWord(RotWord(w[i-1])) xor Rcon[i/Nk].
    const t = k3;
    k0 ^=
      ((s[(t >>> 16) & 255]! << 24) | (s[(t >>> 8) & 255]! << 16) | (s[t & 255]! << 8) | s[t >>> 24]!) ^
      RCON[i]!;
    k1 ^= k0;
    k2 ^= k1;
    k3 ^= k2;
    out[at] = k0;
    out[at + 1] = k1;
    out[at + 2] = k2;
    out[at + 3] = k3;
  }
}

/** FIPS 197 5.1 Cipher with Nr = 10 on `aesState`, under the expanded key at `offset`. */
export function aes128Rounds(w: Int32Array, offset: number): void {
  let s0 = aesState[0]! ^ w[offset]!;
  let s1 = aesState[1]! ^ w[offset + 1]!;
  let s2 = aesState[2]! ^ w[offset + 2]!;
  let s3 = aesState[3]! ^ w[offset + 3]!;
  let k = offset + 4;
  for (let round = 1; round < 10; round++, k += 4) {
    // SubBytes, ShiftRows (row r of column c comes from column c + r), MixColumns, AddRoundKey.
    const t0 = T0[s0 >>> 24]! ^ T1[(s1 >>> 16) & 255]! ^ T2[(s2 >>> 8) & 255]! ^ T3[s3 & 255]! ^ w[k]!;
    const t1 = T0[s1 >>> 24]! ^ T1[(s2 >>> 16) & 255]! ^ T2[(s3 >>> 8) & 255]! ^ T3[s0 & 255]! ^ w[k + 1]!;
    const t2 = T0[s2 >>> 24]! ^ T1[(s3 >>> 16) & 255]! ^ T2[(s0 >>> 8) & 255]! ^ T3[s1 & 255]! ^ w[k + 2]!;
    const t3 = T0[s3 >>> 24]! ^ T1[(s0 >>> 16) & 255]! ^ T2[(s1 >>> 8) & 255]! ^ T3[s2 & 255]! ^ w[k + 3]!;
    s0 = t0;
    s1 = t1;
    s2 = t2;
    s3 = t3;
  }
  // The final round has no MixColumns.
  const s = SBOX;
  aesState[0] =
    ((s[s0 >>> 24]! << 24) | (s[(s1 >>> 16) & 255]! << 16) | (s[(s2 >>> 8) & 255]! << 8) | s[s3 & 255]!) ^
    w[k]!;
  aesState[1] =
    ((s[s1 >>> 24]! << 24) | (s[(s2 >>> 16) & 255]! << 16) | (s[(s3 >>> 8) & 255]! << 8) | s[s0 & 255]!) ^
    w[k + 1]!;
  aesState[2] =
    ((s[s2 >>> 24]! << 24) | (s[(s3 >>> 16) & 255]! << 16) | (s[(s0 >>> 8) & 255]! << 8) | s[s1 & 255]!) ^
    w[k + 2]!;
  aesState[3] =
    ((s[s3 >>> 24]! << 24) | (s[(s0 >>> 16) & 255]! << 16) | (s[(s1 >>> 8) & 255]! << 8) | s[s2 & 255]!) ^
    w[k + 3]!;
}
