import { derivationY } from './derivation-words.ts';
import {
  DES_SCHEDULE_LENGTH,
  desFinalPermutation,
  desFinalPermutationWords,
  desInitialPermutationWords,
  desPairRounds,
  desPairState,
  desRounds,
  desScheduleWords,
  desState,
  desSwap,
} from './des-core.ts';
import { paddedWord } from './padded-data.ts';

// A triple DES application cryptogram (EMV Book 2 A1.2.1, A1.3.1, A1.4.1) computed on the
// table-driven DES, leaving its two words in `tdesCryptogram`. Parity bits are not adjusted in
// the derived keys: DES ignores them (FIPS 46-3), so the MAC is the same.

export const tdesCryptogram = new Int32Array(2);

/** Scratch key schedules: K1 forward, K2 reversed (a double-length key). */
const work = new Int32Array(2 * DES_SCHEDULE_LENGTH);
/** The 16-byte key being derived, as four words. */
const derived = new Int32Array(4);

/** Triple DES on both blocks of `desPairState`: passes at words `first`, `second`, `third`. */
function pairTripleDes(schedule: Int32Array, first: number, second: number, third: number): void {
  desPairRounds(schedule, first);
  desPairRounds(schedule, second);
  desPairRounds(schedule, third);
}

/** IP^-1 of both blocks of `desPairState` (left as preoutputs) into the key being derived. */
function keepDerivedPair(): void {
  desFinalPermutationWords(desPairState[0]!, desPairState[1]!);
  derived[0] = desState[0]!;
  derived[1] = desState[1]!;
  desFinalPermutationWords(desPairState[2]!, desPairState[3]!);
  derived[2] = desState[0]!;
  derived[3] = desState[1]!;
}

/**
 * Schedules the derived key into `work`: K1 forward, K2 reversed. Each half is scheduled once per
 * key: K1 serves both E passes of the EDE (and, for the MAC key, every CBC step and the last step
 * of output transformation 3), K2 the D pass (and the MAC's K' step).
 */
function scheduleDerived(): void {
  desScheduleWords(derived[0]!, derived[1]!, work, 0, false);
  desScheduleWords(derived[2]!, derived[3]!, work, DES_SCHEDULE_LENGTH, true);
}

export interface TdesCryptogramInput {
  /** The issuer master key's triple DES schedule (see `tripleDesKeySchedule`). */
  readonly imk: Int32Array;
  readonly sessionKey: 'none' | 'emv-csk' | 'mastercard';
  readonly padding: 1 | 2;
}

/**
 * Y must already be in `derivationY`; `atc` is the 2-byte ATC as a number and `un` the
 * unpredictable number as a word (Mastercard SKD only).
 */
export function computeTdesCryptogram(
  profile: TdesCryptogramInput,
  atc: number,
  un: number,
  data: Uint8Array,
): void {
  // A1.4.1: ZL = DES3(IMK)[Y], ZR = DES3(IMK)[Y xor 'FF..FF'], computed side by side;
  // IP(Y xor ones) = IP(Y) xor ones, as IP only moves bits.
  desInitialPermutationWords(derivationY[0]!, derivationY[1]!);
  desPairState[0] = desState[0]!;
  desPairState[1] = desState[1]!;
  desPairState[2] = ~desState[0]!;
  desPairState[3] = ~desState[1]!;
  pairTripleDes(profile.imk, 0, DES_SCHEDULE_LENGTH, 2 * DES_SCHEDULE_LENGTH);
  keepDerivedPair();
  scheduleDerived();
  if (profile.sessionKey !== 'none') {
    // A1.3.1: SK = DES3(MK)[R0 R1 'F0' R3..R7] || DES3(MK)[R0 R1 '0F' R3..R7], with
    // R = ATC || zeros (EMV CSK) or ATC || '0000' || UN (Mastercard SKD); both halves side by side.
    const low = profile.sessionKey === 'mastercard' ? un : 0;
    desInitialPermutationWords((atc << 16) | 0xf000, low);
    desPairState[0] = desState[0]!;
    desPairState[1] = desState[1]!;
    desInitialPermutationWords((atc << 16) | 0x0f00, low);
    desPairState[2] = desState[0]!;
    desPairState[3] = desState[1]!;
    // 2-key EDE with `work` holding K1 forward and K2 reversed.
    pairTripleDes(work, 0, DES_SCHEDULE_LENGTH, 0);
    keepDerivedPair();
    scheduleDerived();
  }
  // ISO/IEC 9797-1 MAC algorithm 3: single DES CBC under K (kept in the IP domain: IP is
  // linear, so IP(P xor C) = IP(P) xor IP(C)), then output transformation 3 under K' and K.
  const padByte = profile.padding === 2 ? 0x80 : 0;
  const blocks =
    profile.padding === 2 ? (data.length >>> 3) + 1 : data.length === 0 ? 1 : (data.length + 7) >>> 3;
  let chainL = 0;
  let chainR = 0;
  for (let offset = 0, end = blocks * 8; offset < end; offset += 8) {
    desInitialPermutationWords(paddedWord(data, offset, padByte), paddedWord(data, offset + 4, padByte));
    desState[0] = desState[0]! ^ chainL;
    desState[1] = desState[1]! ^ chainR;
    desRounds(work, 0);
    chainL = desState[1]!;
    chainR = desState[0]!;
  }
  desState[0] = chainL;
  desState[1] = chainR;
  desRounds(work, DES_SCHEDULE_LENGTH);
  desSwap();
  desRounds(work, 0);
  desFinalPermutation();
  tdesCryptogram[0] = desState[0]!;
  tdesCryptogram[1] = desState[1]!;
}
