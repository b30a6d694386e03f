import { cmac } from '../mac/index.ts';
import type { KeyBlockVersion } from './key-block-header.ts';
import { KEY_BLOCK_VERSIONS } from './key-block-header.ts';

export interface KeyBlockKeys {
  /** KBEK: enciphers the key data. */
  readonly encryptionKey: Uint8Array;
  /** KBAK (KBMK): computes the key block MAC. */
  readonly authenticationKey: Uint8Array;
}

// TR-31 key variant binding (versions A and C): each KBPK byte XOR 0x45 for encryption, 0x4D
// for authentication.
const VARIANT_ENCRYPTION = 0x45;
const VARIANT_AUTHENTICATION = 0x4d;

// Key derivation binding (versions B and D, NIST SP 800-108 counter mode with CMAC as the PRF):
// the 8-byte input is counter | key usage (0000 encryption, 0001 MAC) | 00 separator |
// algorithm | length of the derived key in bits.
// [algorithm, bits] by KBPK length in bytes.
const TDEA_DERIVATION: Readonly<Record<number, readonly [number, number]>> = {
  16: [0x0000, 0x0080], // 2-key TDEA
  24: [0x0001, 0x00c0], // 3-key TDEA
};
const AES_DERIVATION: Readonly<Record<number, readonly [number, number]>> = {
  16: [0x0002, 0x0080], // AES-128
  24: [0x0003, 0x00c0], // AES-192
  32: [0x0004, 0x0100], // AES-256
};

function variant(kbpk: Uint8Array, mask: number): Uint8Array {
  return kbpk.map((byte) => byte ^ mask);
}

function derive(cipher: 'tdes' | 'aes', kbpk: Uint8Array, usage: 0 | 1): Uint8Array {
  const [algorithm, bits] = (cipher === 'aes' ? AES_DERIVATION : TDEA_DERIVATION)[kbpk.length]!;
  const blockSize = cipher === 'aes' ? 16 : 8;
  const out = new Uint8Array(Math.ceil(kbpk.length / blockSize) * blockSize);
  for (let counter = 1; (counter - 1) * blockSize < kbpk.length; counter++) {
    const input = Uint8Array.of(
      counter,
      0,
      usage,
      0,
      algorithm >> 8,
      algorithm & 0xff,
      bits >> 8,
      bits & 0xff,
    );
    out.set(cmac(cipher, kbpk, input), (counter - 1) * blockSize);
  }
  return out.slice(0, kbpk.length);
}

/** The key block encryption and authentication keys for a version, from a checked KBPK. */
export function deriveKeyBlockKeys(version: KeyBlockVersion, kbpk: Uint8Array): KeyBlockKeys {
  const parameters = KEY_BLOCK_VERSIONS[version];
  if (parameters.binding === 'variant') {
    return {
      encryptionKey: variant(kbpk, VARIANT_ENCRYPTION),
      authenticationKey: variant(kbpk, VARIANT_AUTHENTICATION),
    };
  }
  return {
    encryptionKey: derive(parameters.cipher, kbpk, 0),
    authenticationKey: derive(parameters.cipher, kbpk, 1),
  };
}
