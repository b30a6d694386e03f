import { KeyBlockError } from './key-block-error.ts';

/** Key block versions: A and C (key variant binding, TDEA), B (TDEA key derivation), D (AES). */
export type KeyBlockVersion = 'A' | 'B' | 'C' | 'D';

/** One optional block: a two-character identifier and printable ASCII data. */
export interface KeyBlockOptionalBlock {
  readonly id: string;
  readonly data: string;
}

/**
 * The key block header of ANSI X9.143 (TR-31) without its length fields, which follow from the
 * rest: byte 0 version, 1-4 key block length, 5-6 key usage, 7 algorithm, 8 mode of use,
 * 9-10 key version number, 11 exportability, 12-13 number of optional blocks, 14 key context
 * (X9.143; reserved in TR-31:2018), 15 reserved, then the optional blocks.
 */
export interface KeyBlockHeader {
  readonly version: KeyBlockVersion;
  /** Two characters, for example `P0` (PIN encryption) or `K1` (key block protection key). */
  readonly keyUsage: string;
  /** `A` AES, `D` DEA, `E` elliptic curve, `H` HMAC, `R` RSA, `S` DSA, `T` TDEA. */
  readonly algorithm: string;
  /** `B` both ways, `C` MAC generate and verify, `D` decrypt, `E` encrypt, `G` generate, `N` none, `S` sign, `T` sign and decrypt, `V` verify, `X` derive, `Y` variants. */
  readonly modeOfUse: string;
  /** `00` for none, `c` and a digit for a key component, else two letters or digits. */
  readonly keyVersionNumber: string;
  /** `E` exportable under a trusted key, `N` not exportable, `S` sensitive. */
  readonly exportability: string;
  /** `0` either context, `1` storage only, `2` exchange only. */
  readonly keyContext: string;
  readonly optionalBlocks: readonly KeyBlockOptionalBlock[];
}

/** Per-version parameters: the cipher, its block size, the MAC length, the KBPK lengths. */
export interface KeyBlockVersionParameters {
  readonly cipher: 'tdes' | 'aes';
  readonly blockSize: 8 | 16;
  readonly macLength: 4 | 8 | 16;
  readonly kbpkLengths: readonly number[];
  readonly binding: 'variant' | 'derivation';
}

export const KEY_BLOCK_VERSIONS: Readonly<Record<KeyBlockVersion, KeyBlockVersionParameters>> = {
  A: { cipher: 'tdes', blockSize: 8, macLength: 4, kbpkLengths: [16, 24], binding: 'variant' },
  B: { cipher: 'tdes', blockSize: 8, macLength: 8, kbpkLengths: [16, 24], binding: 'derivation' },
  C: { cipher: 'tdes', blockSize: 8, macLength: 4, kbpkLengths: [16, 24], binding: 'variant' },
  D: { cipher: 'aes', blockSize: 16, macLength: 16, kbpkLengths: [16, 24, 32], binding: 'derivation' },
};

export function versionParameters(version: unknown): KeyBlockVersionParameters {
  if (typeof version !== 'string' || !Object.hasOwn(KEY_BLOCK_VERSIONS, version)) {
    throw new KeyBlockError('ERR_TR31_VERSION', 'key block version must be A, B, C or D', { offset: 0 });
  }
  return KEY_BLOCK_VERSIONS[version as KeyBlockVersion];
}

type HeaderField =
  | 'keyUsage'
  | 'algorithm'
  | 'modeOfUse'
  | 'keyVersionNumber'
  | 'exportability'
  | 'keyContext';

/** The fixed header fields as data: where each sits and what it may hold. */
export const HEADER_FIELDS: readonly {
  readonly name: HeaderField;
  readonly offset: number;
  readonly length: number;
  readonly pattern: RegExp;
  readonly rule: string;
}[] = [
  {
    name: 'keyUsage',
    offset: 5,
    length: 2,
    pattern: /^[0-9A-Z]{2}$/,
    rule: 'two upper-case letters or digits',
  },
  { name: 'algorithm', offset: 7, length: 1, pattern: /^[ADEHRST]$/, rule: 'one of A, D, E, H, R, S, T' },
  {
    name: 'modeOfUse',
    offset: 8,
    length: 1,
    pattern: /^[BCDEGNSTVXY]$/,
    rule: 'one of B, C, D, E, G, N, S, T, V, X, Y',
  },
  {
    name: 'keyVersionNumber',
    offset: 9,
    length: 2,
    pattern: /^[0-9A-Za-z]{2}$/,
    rule: 'two letters or digits',
  },
  { name: 'exportability', offset: 11, length: 1, pattern: /^[ENS]$/, rule: 'one of E, N, S' },
  { name: 'keyContext', offset: 14, length: 1, pattern: /^[012]$/, rule: 'one of 0, 1, 2' },
];

/** Position and value of the reserved header byte. */
export const RESERVED_OFFSET = 15;
export const RESERVED_VALUE = '0';
export const FIXED_HEADER_LENGTH = 16;

/** Checks one fixed header field's value. */
export function checkHeaderField(field: (typeof HEADER_FIELDS)[number], value: unknown): string {
  if (typeof value !== 'string' || !field.pattern.test(value)) {
    throw new KeyBlockError('ERR_TR31_HEADER', `key block header ${field.name} must be ${field.rule}`, {
      path: ['header', field.name],
      offset: field.offset,
    });
  }
  return value;
}
