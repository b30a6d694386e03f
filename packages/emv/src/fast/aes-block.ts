import { CryptoError } from '../cipher/crypto-error.ts';
import { AES128_SCHEDULE_LENGTH, aes128ExpandWords, aes128Rounds, aesState } from './aes-core.ts';
import { readWord } from './des-core.ts';

// FIPS 197 AES-128 encryption of one 16-byte block on a precomputed key schedule.

/** FIPS 197 5.2: the 44-word expanded key of a 16-byte AES key. */
export function aes128KeySchedule(key: Uint8Array): Int32Array {
  if (!(key instanceof Uint8Array) || key.length !== 16) {
    throw new CryptoError('ERR_KEY_LENGTH', 'AES-128 key must be 16 bytes');
  }
  const schedule = new Int32Array(AES128_SCHEDULE_LENGTH);
  aes128ExpandWords(readWord(key, 0), readWord(key, 4), readWord(key, 8), readWord(key, 12), schedule, 0);
  return schedule;
}

function checkBlock(bytes: Uint8Array, offset: number, name: string): void {
  if (
    !(bytes instanceof Uint8Array) ||
    !Number.isInteger(offset) ||
    offset < 0 ||
    offset + 16 > bytes.length
  ) {
    throw new CryptoError('ERR_DATA_LENGTH', `${name} must hold 16 bytes from its offset`);
  }
}

/** Encrypts one 16-byte block; `output` may be `input` (in place, the default). */
export function aes128EncryptBlock(
  schedule: Int32Array,
  input: Uint8Array,
  output: Uint8Array = input,
  inputOffset = 0,
  outputOffset = 0,
): void {
  if (!(schedule instanceof Int32Array) || schedule.length !== AES128_SCHEDULE_LENGTH) {
    throw new CryptoError('ERR_KEY_SCHEDULE', 'not an AES-128 key schedule');
  }
  checkBlock(input, inputOffset, 'input');
  checkBlock(output, outputOffset, 'output');
  for (let i = 0; i < 4; i++) aesState[i] = readWord(input, inputOffset + 4 * i);
  aes128Rounds(schedule, 0);
  for (let i = 0; i < 4; i++) {
    const word = aesState[i]!;
    const at = outputOffset + 4 * i;
    output[at] = word >>> 24;
    output[at + 1] = word >>> 16;
    output[at + 2] = word >>> 8;
    output[at + 3] = word;
  }
}
