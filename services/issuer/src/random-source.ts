import { toHex } from '@amulet/bytes';

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
  while (out.length < 6) {
    for (const byte of random(6)) {
      if (byte < 252 && out.length < 6) out += codeAlphabet[byte % 36];
    }
  }
  return out;
}
