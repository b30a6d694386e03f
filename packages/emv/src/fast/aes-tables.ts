// Tables for the AES-128 in this folder, computed once at load from their definitions in
// FIPS 197 rather than typed in.

/** FIPS 197 4.2: multiplication by x in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1. */
const times2 = (b: number): number => ((b << 1) ^ (b & 0x80 ? 0x1b : 0)) & 0xff;

function multiply(a: number, b: number): number {
  let product = 0;
  for (let x = a, y = b; y > 0; y >>= 1, x = times2(x)) if (y & 1) product ^= x;
  return product;
}

/** FIPS 197 5.1.1: the S-box, the multiplicative inverse followed by the affine transformation. */
export const SBOX = (() => {
  const box = new Uint8Array(256);
  for (let a = 0; a < 256; a++) {
    let inverse = 0;
    if (a !== 0) for (let b = 1; b < 256; b++) if (multiply(a, b) === 1) inverse = b;
    let s = inverse;
    for (let shift = 1; shift <= 4; shift++) s ^= ((inverse << shift) | (inverse >> (8 - shift))) & 0xff;
    box[a] = s ^ 0x63;
  }
  return box;
})();

/**
 * FIPS 197 5.1.1-5.1.3 merged: T0[a] is the MixColumns column (02, 01, 01, 03) times S(a), as a
 * big-endian word; T1..T3 are T0 rotated right by 8, 16 and 24 bits, for rows 1 to 3.
 */
function tTable(rotation: number): Int32Array {
  const table = new Int32Array(256);
  for (let a = 0; a < 256; a++) {
    const s = SBOX[a]!;
    const word = (times2(s) << 24) | (s << 16) | (s << 8) | (times2(s) ^ s);
    table[a] = rotation === 0 ? word : (word >>> rotation) | (word << (32 - rotation));
  }
  return table;
}

export const T0 = tTable(0);
export const T1 = tTable(8);
export const T2 = tTable(16);
export const T3 = tTable(24);

/** FIPS 197 5.2: the round constants Rcon[i] = x^(i-1), in the first byte of a word. */
export const RCON = (() => {
  const rcon = new Int32Array(10);
  for (let i = 0, r = 1; i < 10; i++, r = times2(r)) rcon[i] = r << 24;
  return rcon;
})();
