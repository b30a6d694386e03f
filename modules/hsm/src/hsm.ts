import type { CryptogramVersionNumber, EncipheredPinBlockFormat, KeyBlockVersion } from '@amulet/emv';

/** The key types the HSM holds: double or triple length TDEA, AES-128/192/256, and ECDSA on P-256. */
export type KeyAlgorithm = 'tdes' | 'aes' | 'ec-p256';

/**
 * What a key may be used for; each operation accepts only its own usages, as payment HSMs do.
 * - `imk-ac`: issuer master key for application cryptograms (TR-31 usage E0).
 * - `icc-mk-ac`: an ICC master key derived from an IMK (E0 on export as well).
 * - `kek`: key block protection key for TR-31 import and export (K0 / K1).
 * - `data-key-wrap`: AES key-encryption key for envelope data keys (D0 under mode of use B/E/D).
 * - `mac`: MAC generation and verification (M3 for ISO 9797-1 algorithm 3, M6 for CMAC).
 * - `pin-encryption`: PIN block encryption (P0).
 * - `signing`: ECDSA P-256 signing (S0).
 * - `key-agreement`: ECDH P-256 (NIST SP 800-56A), e.g. the token service's JWE key (RFC 7518 4.6).
 */
export type KeyUsage =
  | 'imk-ac'
  | 'icc-mk-ac'
  | 'kek'
  | 'data-key-wrap'
  | 'mac'
  | 'pin-encryption'
  | 'signing'
  | 'key-agreement';

/** What the HSM tells about a key: never its value. */
export interface KeyAttributes {
  readonly keyId: string;
  readonly algorithm: KeyAlgorithm;
  /** Key length in bytes (16/24 for TDEA, 16/24/32 for AES, 32 for P-256). */
  readonly length: number;
  readonly usage: KeyUsage;
  /** True when the key may leave the HSM as a TR-31 key block under a KEK. */
  readonly exportable: boolean;
  /**
   * Key check value, upper-case hex: ANSI X9.24-1 legacy (3 bytes of E(0)) for TDEA, X9.24-1:2017
   * CMAC method (5 bytes) for AES, and empty for EC keys.
   */
  readonly kcv: string;
}

export interface GenerateKeyInput {
  /** A label; generated (random, hex) when absent. Must be new. */
  readonly keyId?: string;
  readonly algorithm: KeyAlgorithm;
  /** Bytes: TDEA 16 (default) or 24, AES 16, 24 or 32 (default 32); ignored for EC. */
  readonly length?: number;
  readonly usage: KeyUsage;
  readonly exportable?: boolean;
}

export interface ImportKeyInput {
  readonly keyId?: string;
  /** The `kek` key that protects the key block. */
  readonly kekId: string;
  /** TR-31 (ANSI X9.143) key block, versions A, B, C or D. */
  readonly keyBlock: string;
}

/**
 * A key entered as clear components (a key ceremony under dual control): the key is the XOR of
 * two or three components, as ANSI X9.24-1 asks for the first key-encryption key of a link.
 */
export interface ImportKeyComponentsInput {
  readonly keyId?: string;
  readonly algorithm: 'tdes' | 'aes';
  readonly usage: KeyUsage;
  readonly components: readonly Uint8Array[];
  readonly exportable?: boolean;
  /** When given, the import fails unless the combined key has this check value (hex). */
  readonly kcv?: string;
}

export interface ExportKeyInput {
  readonly keyId: string;
  readonly kekId: string;
  /** Default: D under an AES KEK, B under a TDEA KEK. */
  readonly version?: KeyBlockVersion;
}

export interface DeriveIccMasterKeyInput {
  readonly imkId: string;
  readonly pan: string;
  readonly psn: string;
  readonly keyId?: string;
  readonly exportable?: boolean;
}

/** How to build the ARPC once the ARQC verified (EMV Book 2 8.2). */
export type ArpcRequest =
  | { readonly method: 1; readonly arc: Uint8Array }
  | {
      readonly method: 2;
      readonly cardStatusUpdate: Uint8Array;
      readonly proprietaryData?: Uint8Array;
    };

export interface VerifyArqcInput {
  readonly imkId: string;
  /** CVN 10, 17 and 18 use TDEA; CVN 22 uses the IMK's own algorithm (AES on real cards). */
  readonly cvn: CryptogramVersionNumber;
  readonly pan: string;
  readonly psn: string;
  readonly atc: Uint8Array;
  /** 9F37, needed by the Mastercard CVNs. */
  readonly unpredictableNumber?: Uint8Array;
  /** The covered data, already assembled in the CVN's order. */
  readonly data: Uint8Array;
  readonly arqc: Uint8Array;
  readonly arpc?: ArpcRequest;
}

export interface VerifyArqcResult {
  /** Present when an ARPC was requested. */
  readonly arpc?: Uint8Array;
}

/** `iso9797-alg3`: retail MAC under a TDEA key; `cmac`: NIST SP 800-38B under TDEA or AES. */
export type MacAlgorithm = 'iso9797-alg3' | 'cmac';

export interface MacInput {
  readonly keyId: string;
  readonly algorithm: MacAlgorithm;
  readonly data: Uint8Array;
  /** ISO 9797-1 padding method for algorithm 3 (default 2). */
  readonly padding?: 1 | 2;
  /** Bytes kept from the left (default: the full block). */
  readonly length?: number;
}

export interface DataKey {
  /** The data key under the KEK, AES key wrap (RFC 3394 / NIST SP 800-38F KW). */
  readonly wrapped: Uint8Array;
  /** The clear data key, for immediate use; the caller drops it after use. */
  readonly plaintext: Uint8Array;
  readonly kekId: string;
}

export interface TranslatePinBlockInput {
  readonly block: Uint8Array;
  readonly pan: string;
  readonly from: { readonly keyId: string; readonly format: EncipheredPinBlockFormat };
  readonly to: { readonly keyId: string; readonly format: EncipheredPinBlockFormat };
}

/**
 * The operations, modelled on a payment HSM's data plane (AWS Payment Cryptography is the
 * reference): keys are named by id, their values stay inside; the one exception is the
 * plaintext data key of envelope encryption.
 */
export interface Hsm {
  generateKey(input: GenerateKeyInput): Promise<KeyAttributes>;
  importKey(input: ImportKeyInput): Promise<KeyAttributes>;
  importKeyComponents(input: ImportKeyComponentsInput): Promise<KeyAttributes>;
  exportKey(input: ExportKeyInput): Promise<string>;
  getKey(keyId: string): Promise<KeyAttributes>;
  listKeys(): Promise<readonly KeyAttributes[]>;
  deleteKey(keyId: string): Promise<void>;
  deriveIccMasterKey(input: DeriveIccMasterKeyInput): Promise<KeyAttributes>;
  /** Resolves when the ARQC is right (with the ARPC if asked); rejects with HsmVerificationError otherwise. */
  verifyArqc(input: VerifyArqcInput): Promise<VerifyArqcResult>;
  generateMac(input: MacInput): Promise<Uint8Array>;
  /** Resolves when the MAC is right; rejects with HsmVerificationError otherwise. */
  verifyMac(input: MacInput & { readonly mac: Uint8Array }): Promise<void>;
  generateDataKey(input: { readonly kekId: string; readonly length?: 16 | 24 | 32 }): Promise<DataKey>;
  decryptDataKey(input: { readonly kekId: string; readonly wrapped: Uint8Array }): Promise<Uint8Array>;
  /** Key rotation: the data key moves from one KEK to another without leaving the HSM. */
  rewrapDataKey(input: {
    readonly fromKekId: string;
    readonly toKekId: string;
    readonly wrapped: Uint8Array;
  }): Promise<Uint8Array>;
  translatePinBlock(input: TranslatePinBlockInput): Promise<Uint8Array>;
  /** ECDSA P-256 over SHA-256 of the message; the signature DER-encoded (SEC 1 / RFC 3279). */
  sign(input: { readonly keyId: string; readonly message: Uint8Array }): Promise<Uint8Array>;
  /** The public key as DER SubjectPublicKeyInfo (RFC 5480), of a `signing` or `key-agreement` key. */
  getPublicKey(keyId: string): Promise<Uint8Array>;
  /**
   * ECDH on P-256 (NIST SP 800-56A 5.7.1.2) between a `key-agreement` key and a peer's public key
   * (DER SubjectPublicKeyInfo): the shared secret Z, 32 bytes, for a key derivation the caller runs
   * at once (as PKCS#11 CKM_ECDH1_DERIVE with CKD_NULL gives it).
   */
  deriveSharedSecret(input: {
    readonly keyId: string;
    readonly peerPublicKey: Uint8Array;
  }): Promise<Uint8Array>;
  close(): Promise<void>;
}
