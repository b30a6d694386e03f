import { CryptoError } from '../cipher/crypto-error.ts';
import { type CryptogramVersionNumber, findCryptogramVersion } from '../cryptogram/cryptogram-version.ts';
import { aes128KeySchedule } from './aes-block.ts';
import { aesCryptogram, computeAesCryptogram } from './aes-cryptogram.ts';
import { derivationWords } from './derivation-words.ts';
import { tripleDesKeySchedule } from './des-block.ts';
import { computeTdesCryptogram, tdesCryptogram } from './tdes-cryptogram.ts';

export interface CryptogramVerifierOptions {
  readonly cvn: CryptogramVersionNumber;
  /** Issuer master key for application cryptograms (MK-AC), 16 bytes. */
  readonly imk: Uint8Array;
  /** Overrides the CVN's block cipher, as `computeCryptogram` allows. */
  readonly algorithm?: 'tdes' | 'aes';
}

export interface CryptogramVerifierInput {
  readonly pan: string;
  readonly psn: string;
  /** Application transaction counter, 2 bytes. */
  readonly atc: Uint8Array;
  /** Unpredictable number (9F37), 4 bytes: needed by the Mastercard session key. */
  readonly unpredictableNumber?: Uint8Array;
  /** The data the cryptogram covers, already assembled in the CVN's order. */
  readonly data: Uint8Array;
}

export interface CryptogramVerifier {
  /** The 8-byte application cryptogram, equal to `computeCryptogram` with derivation Option A. */
  compute(input: CryptogramVerifierInput): Uint8Array;
  /** True when the cryptogram matches; compared in constant time, a mismatch says nothing more. */
  verify(input: CryptogramVerifierInput & { readonly cryptogram: Uint8Array }): boolean;
}

/**
 * A verifier for one issuer master key and cryptogram version, on the table-driven ciphers of
 * this folder. The IMK's key schedule is computed once; each call derives that card's ICC master
 * key (EMV Book 2 A1.4.1, Option A) and the session key for its ATC (A1.3.1), then the MAC
 * (A1.2), allocating nothing but `compute`'s result. Not safe to share across threads (none
 * exist in one isolate); calls are synchronous and independent.
 */
export function createCryptogramVerifier(options: CryptogramVerifierOptions): CryptogramVerifier {
  const version = findCryptogramVersion(options.cvn);
  const algorithm = options.algorithm ?? version.algorithm;
  const imk = options.imk;
  if (!(imk instanceof Uint8Array) || imk.length !== 16) {
    throw new CryptoError('ERR_KEY_LENGTH', 'the issuer master key must be 16 bytes');
  }
  const sessionKey = version.sessionKey;
  let run: (input: CryptogramVerifierInput) => Int32Array;
  if (algorithm === 'tdes') {
    const profile = { imk: tripleDesKeySchedule(imk), sessionKey, padding: version.padding };
    run = (input) => {
      const atc = checkInput(input);
      const un = sessionKey === 'mastercard' ? unpredictableWord(input.unpredictableNumber) : 0;
      computeTdesCryptogram(profile, atc, un, input.data);
      return tdesCryptogram;
    };
  } else if (algorithm === 'aes') {
    if (sessionKey === 'mastercard') {
      throw new CryptoError('ERR_ALGORITHM', 'the Mastercard session key is defined for triple DES only');
    }
    const schedule = aes128KeySchedule(imk);
    run = (input) => {
      const atc = checkInput(input);
      computeAesCryptogram(schedule, sessionKey, atc, input.data);
      return aesCryptogram;
    };
  } else {
    throw new CryptoError('ERR_ALGORITHM', 'algorithm must be tdes or aes');
  }
  return {
    compute(input) {
      const words = run(input);
      const out = new Uint8Array(8);
      writeWord(out, 0, words[0]!);
      writeWord(out, 4, words[1]!);
      return out;
    },
    verify(input) {
      const cryptogram = input.cryptogram;
      if (!(cryptogram instanceof Uint8Array)) {
        throw new CryptoError('ERR_CRYPTOGRAM', 'cryptogram must be a Uint8Array');
      }
      const words = run(input);
      if (cryptogram.length !== 8) return false;
      // Constant time: every byte is compared whatever the first difference.
      const difference =
        (words[0]! ^
          ((cryptogram[0]! << 24) | (cryptogram[1]! << 16) | (cryptogram[2]! << 8) | cryptogram[3]!)) |
        (words[1]! ^
          ((cryptogram[4]! << 24) | (cryptogram[5]! << 16) | (cryptogram[6]! << 8) | cryptogram[7]!));
      return difference === 0;
    },
  };
}

/** Checks the card and transaction fields, packs Y, and returns the ATC as a number. */
function checkInput(input: CryptogramVerifierInput): number {
  derivationWords(input.pan, input.psn);
  const atc = input.atc;
  if (!(atc instanceof Uint8Array) || atc.length !== 2)
    throw new CryptoError('ERR_ATC', 'ATC must be 2 bytes');
  if (!(input.data instanceof Uint8Array))
    throw new CryptoError('ERR_DATA_TYPE', 'data must be a Uint8Array');
  return (atc[0]! << 8) | atc[1]!;
}

function unpredictableWord(un: Uint8Array | undefined): number {
  if (un === undefined) {
    throw new CryptoError('ERR_UN', 'this cryptogram version needs the unpredictable number');
  }
  if (!(un instanceof Uint8Array) || un.length !== 4) {
    throw new CryptoError('ERR_UN', 'unpredictable number must be 4 bytes');
  }
  return (un[0]! << 24) | (un[1]! << 16) | (un[2]! << 8) | un[3]!;
}

function writeWord(out: Uint8Array, offset: number, word: number): void {
  out[offset] = word >>> 24;
  out[offset + 1] = word >>> 16;
  out[offset + 2] = word >>> 8;
  out[offset + 3] = word;
}
