import { constantTimeEqual } from '@amulet/bytes';
import { CryptoError } from '../cipher/crypto-error.ts';
import { deriveIccMasterKey, type IccKeyDerivationOption } from '../keys/derive-icc-master-key.ts';
import { atcDiversifier, deriveCommonSessionKey, mastercardDiversifier } from '../keys/derive-session-key.ts';
import { cmac } from '../mac/cmac.ts';
import { macIso9797Algorithm3 } from '../mac/iso9797-mac.ts';
import {
  type CryptogramVersion,
  type CryptogramVersionNumber,
  findCryptogramVersion,
} from './cryptogram-version.ts';

export interface CryptogramInput {
  readonly cvn: CryptogramVersionNumber;
  /** Issuer master key for application cryptograms (MK-AC). */
  readonly imk: Uint8Array;
  readonly pan: string;
  readonly psn: string;
  /** Application transaction counter, 2 bytes. */
  readonly atc: Uint8Array;
  /** The data the cryptogram covers, already assembled in the CVN's order. */
  readonly data: Uint8Array;
  /** Unpredictable number (9F37), 4 bytes: needed by the Mastercard session key. */
  readonly unpredictableNumber?: Uint8Array;
  readonly derivation?: IccKeyDerivationOption;
  /** Overrides the CVN's block cipher (some test suites run CVN 22 with triple DES keys). */
  readonly algorithm?: 'tdes' | 'aes';
}

export interface CryptogramKeys {
  readonly iccMasterKey: Uint8Array;
  readonly sessionKey: Uint8Array;
}

/** The ICC master key and session key a cryptogram version uses for this card and ATC. */
export function cryptogramKeys(
  input: CryptogramInput,
  version: CryptogramVersion = findCryptogramVersion(input.cvn),
): CryptogramKeys {
  const algorithm = input.algorithm ?? version.algorithm;
  const iccMasterKey = deriveIccMasterKey({
    imk: input.imk,
    pan: input.pan,
    psn: input.psn,
    option: input.derivation ?? 'a',
    algorithm,
  });
  switch (version.sessionKey) {
    case 'none':
      return { iccMasterKey, sessionKey: iccMasterKey };
    case 'emv-csk':
      return {
        iccMasterKey,
        sessionKey: deriveCommonSessionKey(iccMasterKey, atcDiversifier(input.atc, algorithm), algorithm),
      };
    case 'mastercard': {
      if (input.unpredictableNumber === undefined) {
        throw new CryptoError('ERR_UN', 'this cryptogram version needs the unpredictable number');
      }
      const r = mastercardDiversifier(input.atc, input.unpredictableNumber);
      return { iccMasterKey, sessionKey: deriveCommonSessionKey(iccMasterKey, r, 'tdes') };
    }
  }
}

/** The MAC of an application cryptogram under a session key (EMV Book 2 A1.2). */
export function cryptogramMac(
  sessionKey: Uint8Array,
  data: Uint8Array,
  algorithm: 'tdes' | 'aes',
  padding: 1 | 2,
): Uint8Array {
  // A1.2.1: triple DES, ISO/IEC 9797-1 MAC algorithm 3; A1.2.2: AES, CMAC truncated to 8 bytes.
  return algorithm === 'aes'
    ? cmac('aes', sessionKey, data, 8)
    : macIso9797Algorithm3(sessionKey, data, padding);
}

/** The 8-byte application cryptogram (ARQC, TC or AAC) for the given data. */
export function computeCryptogram(input: CryptogramInput): Uint8Array {
  const version = findCryptogramVersion(input.cvn);
  const { sessionKey } = cryptogramKeys(input, version);
  return cryptogramMac(sessionKey, input.data, input.algorithm ?? version.algorithm, version.padding);
}

/**
 * True when the cryptogram matches. The comparison is constant-time and a mismatch says nothing
 * more (DESIGN.md invariant 3); malformed inputs still throw, before any key is used.
 */
export function verifyCryptogram(input: CryptogramInput & { readonly cryptogram: Uint8Array }): boolean {
  return constantTimeEqual(computeCryptogram(input), input.cryptogram);
}
