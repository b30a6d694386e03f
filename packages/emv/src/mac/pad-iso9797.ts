import { CryptoError } from '../cipher/crypto-error.ts';

export type Iso9797Padding = 1 | 2 | 3;

/**
 * ISO/IEC 9797-1:2011 section 6.3 padding methods.
 * 1: zeros up to a whole block (empty data becomes one zero block).
 * 2: one 0x80 byte, then zeros up to a whole block (always adds at least one byte).
 * 3: a first block holding the data length in bits, big-endian, then the data padded as in
 *    method 1 (empty data, too, gets one zero block, as the published vectors show).
 */
export function padIso9797(data: Uint8Array, method: Iso9797Padding, blockSize: number): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new CryptoError('ERR_DATA_TYPE', 'data must be a Uint8Array');
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > 64) {
    throw new CryptoError('ERR_BLOCK_SIZE', 'block size must be 1 to 64 bytes');
  }
  switch (method) {
    case 1: {
      const length = data.length === 0 ? blockSize : Math.ceil(data.length / blockSize) * blockSize;
      const out = new Uint8Array(length);
      out.set(data);
      return out;
    }
    case 2: {
      const out = new Uint8Array((Math.floor(data.length / blockSize) + 1) * blockSize);
      out.set(data);
      out[data.length] = 0x80;
      return out;
    }
    case 3: {
      const body = data.length === 0 ? blockSize : Math.ceil(data.length / blockSize) * blockSize;
      const out = new Uint8Array(blockSize + body);
      let bits = data.length * 8;
      for (let i = blockSize - 1; i >= 0 && bits > 0; i--) {
        out[i] = bits & 0xff;
        bits = Math.floor(bits / 256);
      }
      out.set(data, blockSize);
      return out;
    }
    default:
      throw new CryptoError('ERR_PADDING_METHOD', 'padding method must be 1, 2 or 3');
  }
}

/** Removes ISO/IEC 9797-1 method 2 padding; a block without it is refused. */
export function unpadIso9797Method2(data: Uint8Array): Uint8Array {
  for (let i = data.length - 1; i >= 0; i--) {
    if (data[i] === 0x80) return data.slice(0, i);
    if (data[i] !== 0x00) break;
  }
  throw new CryptoError('ERR_PADDING', 'data does not end with ISO/IEC 9797-1 method 2 padding');
}
