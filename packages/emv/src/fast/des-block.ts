import { CryptoError } from '../cipher/crypto-error.ts';
import {
  DES_SCHEDULE_LENGTH,
  desFinalPermutation,
  desInitialPermutation,
  desRounds,
  desScheduleWords,
  desStoreState,
  desSwap,
  readWord,
} from './des-core.ts';

// FIPS 46-3 DES and ANSI X9.52 / NIST SP 800-67 triple DES (EDE), one 8-byte block at a time,
// on precomputed key schedules: nothing is allocated per block.

function checkKey(key: Uint8Array, lengths: readonly number[], name: string): void {
  if (!(key instanceof Uint8Array)) throw new CryptoError('ERR_KEY_TYPE', 'key must be a Uint8Array');
  if (!lengths.includes(key.length)) {
    throw new CryptoError(
      'ERR_KEY_LENGTH',
      `${name} key must be ${lengths.join(' or ')} bytes, got ${key.length}`,
    );
  }
}

function checkBlock(bytes: Uint8Array, offset: number, name: string): void {
  if (
    !(bytes instanceof Uint8Array) ||
    !Number.isInteger(offset) ||
    offset < 0 ||
    offset + 8 > bytes.length
  ) {
    throw new CryptoError('ERR_DATA_LENGTH', `${name} must hold 8 bytes from its offset`);
  }
}

/** A DES key schedule: 32 words in encryption order, then the same in decryption order. */
export function desKeySchedule(key: Uint8Array): Int32Array {
  checkKey(key, [8], 'DES');
  const schedule = new Int32Array(2 * DES_SCHEDULE_LENGTH);
  desScheduleWords(readWord(key, 0), readWord(key, 4), schedule, 0, false);
  desScheduleWords(readWord(key, 0), readWord(key, 4), schedule, DES_SCHEDULE_LENGTH, true);
  return schedule;
}

function desBlock(
  schedule: Int32Array,
  offset: number,
  input: Uint8Array,
  output: Uint8Array,
  inputOffset: number,
  outputOffset: number,
): void {
  checkBlock(input, inputOffset, 'input');
  checkBlock(output, outputOffset, 'output');
  desInitialPermutation(input, inputOffset);
  desRounds(schedule, offset);
  desFinalPermutation();
  desStoreState(output, outputOffset);
}

function checkSchedule(schedule: Int32Array, length: number, name: string): void {
  if (!(schedule instanceof Int32Array) || schedule.length !== length) {
    throw new CryptoError('ERR_KEY_SCHEDULE', `not a ${name} key schedule`);
  }
}

/** Encrypts one block with single DES; `output` may be `input` (in place, the default). */
export function desEncryptBlock(
  schedule: Int32Array,
  input: Uint8Array,
  output: Uint8Array = input,
  inputOffset = 0,
  outputOffset = 0,
): void {
  checkSchedule(schedule, 2 * DES_SCHEDULE_LENGTH, 'DES');
  desBlock(schedule, 0, input, output, inputOffset, outputOffset);
}

/** Decrypts one block with single DES; `output` may be `input` (in place, the default). */
export function desDecryptBlock(
  schedule: Int32Array,
  input: Uint8Array,
  output: Uint8Array = input,
  inputOffset = 0,
  outputOffset = 0,
): void {
  checkSchedule(schedule, 2 * DES_SCHEDULE_LENGTH, 'DES');
  desBlock(schedule, DES_SCHEDULE_LENGTH, input, output, inputOffset, outputOffset);
}

/** Length of a triple DES schedule: E(K1) D(K2) E(K3), then D(K3) E(K2) D(K1). */
export const TRIPLE_DES_SCHEDULE_LENGTH = 6 * DES_SCHEDULE_LENGTH;

/**
 * A triple DES key schedule for a 16-byte (K1 K2, keying option 2: K3 = K1) or 24-byte
 * (K1 K2 K3, keying option 1) key.
 */
export function tripleDesKeySchedule(key: Uint8Array): Int32Array {
  checkKey(key, [16, 24], 'triple DES');
  const third = key.length === 24 ? 16 : 0;
  const schedule = new Int32Array(TRIPLE_DES_SCHEDULE_LENGTH);
  const n = DES_SCHEDULE_LENGTH;
  const [k1h, k1l, k2h, k2l, k3h, k3l] = [
    readWord(key, 0),
    readWord(key, 4),
    readWord(key, 8),
    readWord(key, 12),
    readWord(key, third),
    readWord(key, third + 4),
  ] as const;
  desScheduleWords(k1h, k1l, schedule, 0, false);
  desScheduleWords(k2h, k2l, schedule, n, true);
  desScheduleWords(k3h, k3l, schedule, 2 * n, false);
  desScheduleWords(k3h, k3l, schedule, 3 * n, true);
  desScheduleWords(k2h, k2l, schedule, 4 * n, false);
  desScheduleWords(k1h, k1l, schedule, 5 * n, true);
  return schedule;
}

/** The three DES passes of triple DES on `desState`, from the schedule's word `offset` on. */
export function tripleDesRounds(schedule: Int32Array, offset: number): void {
  desRounds(schedule, offset);
  desSwap();
  desRounds(schedule, offset + DES_SCHEDULE_LENGTH);
  desSwap();
  desRounds(schedule, offset + 2 * DES_SCHEDULE_LENGTH);
}

function tripleDesBlock(
  schedule: Int32Array,
  offset: number,
  input: Uint8Array,
  output: Uint8Array,
  inputOffset: number,
  outputOffset: number,
): void {
  checkSchedule(schedule, TRIPLE_DES_SCHEDULE_LENGTH, 'triple DES');
  checkBlock(input, inputOffset, 'input');
  checkBlock(output, outputOffset, 'output');
  desInitialPermutation(input, inputOffset);
  tripleDesRounds(schedule, offset);
  desFinalPermutation();
  desStoreState(output, outputOffset);
}

/** Encrypts one block with triple DES (EDE); `output` may be `input` (the default). */
export function tripleDesEncryptBlock(
  schedule: Int32Array,
  input: Uint8Array,
  output: Uint8Array = input,
  inputOffset = 0,
  outputOffset = 0,
): void {
  tripleDesBlock(schedule, 0, input, output, inputOffset, outputOffset);
}

/** Decrypts one block with triple DES (DED); `output` may be `input` (the default). */
export function tripleDesDecryptBlock(
  schedule: Int32Array,
  input: Uint8Array,
  output: Uint8Array = input,
  inputOffset = 0,
  outputOffset = 0,
): void {
  tripleDesBlock(schedule, 3 * DES_SCHEDULE_LENGTH, input, output, inputOffset, outputOffset);
}
