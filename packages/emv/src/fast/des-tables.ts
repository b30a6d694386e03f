// Lookup tables for the table-driven DES in this folder, built once at load from the tables of
// FIPS 46-3. Bit n of a table (1-based) is the n-th bit from the left, as the standard numbers
// them; a 32-bit half holds bit 1 in its most significant position.

/** FIPS 46-3, initial permutation IP: output bit i is input bit IP[i - 1]. */
const IP = [
  58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, 62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40,
  32, 24, 16, 8, 57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3, 61, 53, 45, 37, 29, 21, 13, 5,
  63, 55, 47, 39, 31, 23, 15, 7,
];

/** FIPS 46-3, permutation P applied to the S-box outputs. */
const P = [
  16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22,
  11, 4, 25,
];

/** FIPS 46-3, the eight selection functions S1..S8, each 4 rows of 16 columns. */
const S = [
  [
    14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, 0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3,
    8, 4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0, 15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6,
    13,
  ],
  [
    15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, 3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11,
    5, 0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15, 13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5,
    14, 9,
  ],
  [
    10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, 13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15,
    1, 13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7, 1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2,
    12,
  ],
  [
    7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, 13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14,
    9, 10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4, 3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2,
    14,
  ],
  [
    2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, 14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8,
    6, 4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14, 11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4,
    5, 3,
  ],
  [
    12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, 10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3,
    8, 9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6, 4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8,
    13,
  ],
  [
    4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, 13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8,
    6, 1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2, 6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3,
    12,
  ],
  [
    13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, 1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9,
    2, 7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8, 2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6,
    11,
  ],
];

/** FIPS 46-3, permuted choice 1: the 56 key bits (C0 then D0) taken from the 64-bit key. */
const PC1 = [
  57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
  63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
];

/** FIPS 46-3, permuted choice 2: the 48 bits of a round key taken from Cn || Dn. */
const PC2 = [
  14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2, 41, 52, 31, 37, 47,
  55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
];

/** FIPS 46-3, left shifts of C and D before each of the 16 rounds. */
export const KEY_SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];

/** The mask of bit n (1-based, from the left) of a 32-bit word. */
const bit = (n: number): number => (1 << (32 - n)) | 0;

/**
 * A round key is kept as two words laid out to match the expansion E without computing it:
 * E's six-bit group j is bits 4j..4j+5 of R (bit 0 meaning bit 32), so rotating R left by 5
 * puts groups 0, 6, 4, 2 at bit offsets 0, 8, 16, 24, and rotating it left by 9 puts groups
 * 1, 7, 5, 3 there. Group j of the round key sits at the same place in word `j & 1`.
 */
export const GROUP_SHIFT = [0, 0, 24, 24, 16, 16, 8, 8];

// S-box j and P together, indexed by the six-bit group: SP[j][x] = P(Sj(x) placed at bits 4j+1..4j+4).
function spTable(j: number): Int32Array {
  const sbox = S[j]!;
  const table = new Int32Array(64);
  for (let x = 0; x < 64; x++) {
    // FIPS 46-3: the outer bits b1 b6 choose the row, the inner four the column.
    const row = ((x >> 4) & 2) | (x & 1);
    const value = sbox[row * 16 + ((x >> 1) & 15)]! << (28 - 4 * j);
    let out = 0;
    for (let i = 1; i <= 32; i++) if (value & bit(P[i - 1]!)) out |= bit(i);
    table[x] = out;
  }
  return table;
}

export const SP0 = spTable(0);
export const SP1 = spTable(1);
export const SP2 = spTable(2);
export const SP3 = spTable(3);
export const SP4 = spTable(4);
export const SP5 = spTable(5);
export const SP6 = spTable(6);
export const SP7 = spTable(7);

/**
 * Byte-indexed tables of a 64-bit permutation: for input byte p with value v, the output bits
 * it sets in the left word (`[p * 256 + v]`) and right word (`[2048 + p * 256 + v]`).
 */
function byteTables(sourceOf: (outputBit: number) => number): Int32Array {
  const table = new Int32Array(4096);
  for (let out = 1; out <= 64; out++) {
    const source = sourceOf(out) - 1;
    const p = source >> 3;
    const mask = 0x80 >> (source & 7);
    const target = out <= 32 ? bit(out) : bit(out - 32);
    const base = (out <= 32 ? 0 : 2048) + p * 256;
    for (let v = 0; v < 256; v++) if (v & mask) table[base + v]! |= target;
  }
  return table;
}

/** IP, from the 8 block bytes to L0 and R0. */
export const IP_TABLE = byteTables((out) => IP[out - 1]!);

const IP_INVERSE: number[] = [];
for (let i = 0; i < 64; i++) IP_INVERSE[IP[i]! - 1] = i + 1;

/** IP^-1, from the 8 bytes of the preoutput R16 || L16 to the two words of the output block. */
export const FP_TABLE = byteTables((out) => IP_INVERSE[out - 1]!);

/** PC1 from the 8 key bytes: C0 in the left word's low 28 bits, D0 in the right word's. */
export const PC1_TABLE = (() => {
  const table = new Int32Array(4096);
  for (let out = 1; out <= 56; out++) {
    const source = PC1[out - 1]! - 1;
    const p = source >> 3;
    const mask = 0x80 >> (source & 7);
    const target = 1 << (28 - (out <= 28 ? out : out - 28));
    const base = (out <= 28 ? 0 : 2048) + p * 256;
    for (let v = 0; v < 256; v++) if (v & mask) table[base + v]! |= target;
  }
  return table;
})();

/**
 * PC2 by seven-bit chunks of C (chunks 0..3) and D (chunks 4..7), each entry giving the bits it
 * sets in both round key words: word 0 at `[(chunk * 128 + v) * 2]`, word 1 just after.
 */
export const PC2_TABLE = (() => {
  const table = new Int32Array(8 * 128 * 2);
  for (let k = 1; k <= 48; k++) {
    const source = PC2[k - 1]!; // 1..56 in C || D
    const chunk = (source - 1) / 7;
    const chunkIndex = Math.floor(chunk);
    const mask = 1 << (6 - ((source - 1) % 7));
    const group = Math.floor((k - 1) / 6);
    const target = 1 << (5 - ((k - 1) % 6) + GROUP_SHIFT[group]!);
    for (let v = 0; v < 128; v++) {
      if (v & mask) table[(chunkIndex * 128 + v) * 2 + (group & 1)]! |= target;
    }
  }
  return table;
})();
