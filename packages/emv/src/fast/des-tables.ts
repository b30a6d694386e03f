// Lookup tables for the table-driven DES in this folder, built once at load from the tables of
// FIPS 46-3. Bit n of a table (1-based) is the n-th bit from the left, as the standard numbers
// them; a 32-bit half holds bit 1 in its most significant position.

/**
 * FIPS 46-3, initial permutation IP: output bit i is input bit IP[i - 1]. The cipher computes IP
 * by bit exchanges (des-core.ts); this table is the reference the tests hold them to.
 */
export const INITIAL_PERMUTATION = [
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

/**
 * FIPS 46-3, permuted choice 1: the 56 key bits (C0 then D0) taken from the 64-bit key. The key
 * schedule computes it by bit exchanges (des-core.ts); this table is the tests' reference.
 */
export const PERMUTED_CHOICE_1 = [
  57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
  63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
];

/** FIPS 46-3, permuted choice 2: the 48 bits of a round key taken from Cn || Dn. */
const PC2 = [
  14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2, 41, 52, 31, 37, 47,
  55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
];

/** FIPS 46-3, left shifts of C and D before each of the 16 rounds. */
const KEY_SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];

/** The same shifts as a mask: bit n set when round n + 1 shifts by two (no array load). */
export const KEY_DOUBLE_SHIFTS = KEY_SHIFTS.reduce((mask, shift, round) => mask | ((shift - 1) << round), 0);

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

/**
 * The eight S-box-and-P tables in one array (one base pointer for the round function), ordered
 * by where their group sits in the round key words: entries `64 * (4 * word + byte)` onwards
 * serve the group at byte `byte` (bit offset 8 * byte) of word `word`, i.e. groups 0, 6, 4, 2,
 * then 1, 7, 5, 3. Each entry is rotated left by 5, as `desRounds` keeps the halves (see there).
 */
export const SP_TABLE = (() => {
  const table = new Int32Array(8 * 64);
  for (let j = 0; j < 8; j++) table.set(spTable(j), 64 * (4 * (j & 1) + GROUP_SHIFT[j]! / 8));
  for (let i = 0; i < table.length; i++) table[i] = (table[i]! << 5) | (table[i]! >>> 27);
  return table;
})();

/**
 * PC2 by seven-bit chunks: FIPS 46-3 takes round key groups 1-4 (our 0..3) from C only and
 * groups 5-8 (4..7) from D only, and each round key word holds two groups of each half (word 0:
 * groups 0, 2 of C and 4, 6 of D; word 1: groups 1, 3 of C and 5, 7 of D). So one table entry per
 * chunk of C (chunks 0..3) or D (chunks 4..7) carries both words' bits: word 0's in place and
 * word 1's rotated by 16, where they fall in the bytes that word 0 leaves free on that half.
 * `desScheduleWords` ORs four entries per half and separates the words with one mask.
 */
export const PC2_TABLE = (() => {
  const table = new Int32Array(8 * 128);
  for (let k = 1; k <= 48; k++) {
    const source = PC2[k - 1]! - 1; // 0..55 in C || D
    const chunk = Math.floor(source / 7);
    const mask = 1 << (6 - (source % 7));
    const group = Math.floor((k - 1) / 6);
    const shift = 5 - ((k - 1) % 6) + GROUP_SHIFT[group]!;
    // Word 1 rotated by 16: a bit at offset s moves to (s + 16) mod 32.
    const target = 1 << ((group & 1) === 0 ? shift : (shift + 16) & 31);
    for (let v = 0; v < 128; v++) if (v & mask) table[chunk * 128 + v]! |= target;
  }
  return table;
})();

/**
 * The bytes of a PC2_TABLE entry of C that hold word 0's bits (groups 0 at bit 0, 2 at bit 24);
 * its other two bytes hold word 1's, and an entry of D has them the other way round.
 */
export const PC2_C_WORD0 = 0xff0000ff | 0;
