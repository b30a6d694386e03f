import { BytesError } from './amulet-error.ts';

/** XOR of two equal-length byte arrays, as a new array. */
export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) {
    throw new BytesError('ERR_XOR_LENGTH', `cannot XOR ${a.length} bytes with ${b.length} bytes`);
  }
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}
