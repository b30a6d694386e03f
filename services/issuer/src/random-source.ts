import { orderedId, toHex } from '@amulet/bytes';

/** Where the issuer's randomness comes from: `length` bytes per call. Injected, so runs replay. */
export type RandomBytes = (length: number) => Uint8Array;

/** Adapts a uniform [0, 1) source (e.g. @amulet/transport's seededRandom) to bytes. */
export function randomBytesFrom(random: () => number): RandomBytes {
  return (length) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256) & 0xff;
    return out;
  };
}

/** An identifier: a prefix and 16 hex digits from the random source. */
export function newId(random: RandomBytes, prefix: string): string {
  return `${prefix}_${toHex(random(8)).toLowerCase()}`;
}

/**
 * An identifier for a row written on every authorization: a prefix, the time in milliseconds (12
 * hex digits) and 16 random hex digits. Rows then go into their primary-key index in time order,
 * next to the rows of the same commit, instead of each into a random page of the index (a group
 * commit of 64 authorizations would otherwise write back a few hundred scattered pages).
 */
export function newOrderedId(random: RandomBytes, prefix: string, atMs: number): string {
  return orderedId(prefix, atMs, random(8));
}

/** `count` decimal digits, each uniform (rejection sampling keeps bytes 250-255 from biasing). */
export function randomDigits(random: RandomBytes, count: number): string {
  let out = '';
  while (out.length < count) {
    for (const byte of random(count)) {
      if (byte < 250 && out.length < count) out += String(byte % 10);
    }
  }
  return out;
}

const codeAlphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** An authorization id response (field 38, an6): six characters of 0-9 and A-Z. */
export function newAuthorizationCode(random: RandomBytes): string {
  let out = '';
  while (out.length < 6) out = appendCode(out, random(6));
  return out;
}

/**
 * An approval's identifiers from one draw of the random source (the hot path pays for one call,
 * not two): the authorization id (as newOrderedId makes it) and its field 38 code.
 */
export function newApprovalIdentifiers(
  random: RandomBytes,
  atMs: number,
): { readonly id: string; readonly code: string } {
  const bytes = random(14);
  let code = appendCode('', bytes.subarray(8));
  while (code.length < 6) code = appendCode(code, random(6));
  return { id: orderedId('au', atMs, bytes.subarray(0, 8)), code };
}

/** Adds characters to `out` (up to six) from bytes below 252, so each of the 36 is equally likely. */
function appendCode(out: string, bytes: Uint8Array): string {
  for (const byte of bytes) {
    if (byte < 252 && out.length < 6) out += codeAlphabet[byte % 36];
  }
  return out;
}
