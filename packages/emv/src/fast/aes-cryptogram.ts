import { AES128_SCHEDULE_LENGTH, aes128ExpandWords, aes128Rounds, aesState } from './aes-core.ts';
import { derivationY } from './derivation-words.ts';
import { paddedWord } from './padded-data.ts';

// An AES application cryptogram (EMV Book 2 A1.2.2, A1.3.1, A1.4.1) computed on the
// table-driven AES-128, leaving its two words (the CMAC truncated to 8 bytes) in `aesCryptogram`.

export const aesCryptogram = new Int32Array(2);

const work = new Int32Array(AES128_SCHEDULE_LENGTH);

function expandState(): void {
  aes128ExpandWords(aesState[0]!, aesState[1]!, aesState[2]!, aesState[3]!, work, 0);
}

/** NIST SP 800-38B 6.1: doubling in GF(2^128), Rb = 0x87, on `aesState`. */
function doubleState(): void {
  const carry = aesState[0]! >>> 31;
  aesState[0] = (aesState[0]! << 1) | (aesState[1]! >>> 31);
  aesState[1] = (aesState[1]! << 1) | (aesState[2]! >>> 31);
  aesState[2] = (aesState[2]! << 1) | (aesState[3]! >>> 31);
  aesState[3] = (aesState[3]! << 1) ^ (carry * 0x87);
}

/** Y must already be in `derivationY`; `atc` is the 2-byte ATC as a number. */
export function computeAesCryptogram(
  imk: Int32Array,
  sessionKey: 'none' | 'emv-csk',
  atc: number,
  data: Uint8Array,
): void {
  // A1.4.1 with a 16-byte block: MK = AES(IMK)[Y || (Y xor 'FF..FF')].
  aesState[0] = derivationY[0]!;
  aesState[1] = derivationY[1]!;
  aesState[2] = ~derivationY[0]!;
  aesState[3] = ~derivationY[1]!;
  aes128Rounds(imk, 0);
  expandState();
  if (sessionKey === 'emv-csk') {
    // A1.3.1: SK = AES(MK)[R0 R1 'F0' R3..R15] with R = ATC || zeros.
    aesState[0] = (atc << 16) | 0xf000;
    aesState[1] = 0;
    aesState[2] = 0;
    aesState[3] = 0;
    aes128Rounds(work, 0);
    expandState();
  }
  // SP 800-38B 6.1: L = AES(K)[0^128], K1 = double(L), K2 = double(K1).
  aesState.fill(0);
  aes128Rounds(work, 0);
  doubleState();
  const complete = data.length > 0 && (data.length & 15) === 0;
  if (!complete) doubleState();
  const s0 = aesState[0]!;
  const s1 = aesState[1]!;
  const s2 = aesState[2]!;
  const s3 = aesState[3]!;
  // SP 800-38B 6.2: CBC over the blocks, the last one padded (if incomplete) and XORed with the subkey.
  const last = complete ? data.length - 16 : data.length & ~15;
  let c0 = 0;
  let c1 = 0;
  let c2 = 0;
  let c3 = 0;
  for (let offset = 0; offset <= last; offset += 16) {
    aesState[0] = c0 ^ paddedWord(data, offset, 0x80);
    aesState[1] = c1 ^ paddedWord(data, offset + 4, 0x80);
    aesState[2] = c2 ^ paddedWord(data, offset + 8, 0x80);
    aesState[3] = c3 ^ paddedWord(data, offset + 12, 0x80);
    if (offset === last) {
      aesState[0] ^= s0;
      aesState[1] ^= s1;
      aesState[2] ^= s2;
      aesState[3] ^= s3;
    }
    aes128Rounds(work, 0);
    c0 = aesState[0]!;
    c1 = aesState[1]!;
    c2 = aesState[2]!;
    c3 = aesState[3]!;
  }
  // A1.2.2: the cryptogram is the leftmost 8 bytes.
  aesCryptogram[0] = c0;
  aesCryptogram[1] = c1;
}
