import { CryptoError } from './crypto-error.ts';

// FIPS 46-3: the least significant bit of each DES key byte makes the byte's parity odd.

function oddParity(byte: number): boolean {
  let bits = byte;
  bits ^= bits >> 4;
  bits ^= bits >> 2;
  bits ^= bits >> 1;
  return (bits & 1) === 1;
}

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length === 0 || key.length % 8 !== 0) {
    throw new CryptoError('ERR_KEY_LENGTH', 'a DES key must be a non-empty multiple of 8 bytes');
  }
}

/** A copy of the key with bit 0 of each byte set so that every byte has odd parity. */
export function adjustDesParity(key: Uint8Array): Uint8Array {
  checkKey(key);
  const out = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) {
    const byte = key[i]!;
    out[i] = oddParity(byte) ? byte : byte ^ 1;
  }
  return out;
}

/** True when every byte of the key has odd parity. */
export function hasOddDesParity(key: Uint8Array): boolean {
  checkKey(key);
  for (const byte of key) if (!oddParity(byte)) return false;
  return true;
}
