/** The store's records as callers see them. Binary values are bytes the caller produced (ciphertext, hashes). */

export interface TokenRequestor {
  /** EMVCo Payment Tokenisation: the 11-digit token requestor ID (one per wallet tenant). */
  readonly trid: string;
  readonly name: string;
  readonly tenant: string;
  readonly createdAt: string;
}

export interface TokenBinRange {
  readonly id: string;
  /** The network profile the range belongs to (e.g. `visa`, `mastercard`). */
  readonly network: string;
  /** Inclusive bounds, digit strings of equal length. */
  readonly binLow: string;
  readonly binHigh: string;
  readonly tokenLength: number;
}

export interface Issuer {
  readonly id: string;
  readonly name: string;
  /** Where to ask for ID&V decisions and where to send authorizations. */
  readonly idvEndpoint: string;
  readonly authEndpoint: string;
  /** BIN prefixes (6 to 11 digits) the issuer owns. */
  readonly bins: readonly string[];
}

/**
 * One card number in the vault. The store never sees the PAN: `panCiphertext` is the PAN encrypted
 * under a data key, `wrappedDataKey` that data key wrapped by the HSM key `wrappingKeyId`, and
 * `panLookup` a keyed hash (HMAC) of the PAN for lookups and de-duplication — all made by the caller.
 */
export interface PanRecord {
  readonly id: string;
  readonly panLookup: Uint8Array;
  readonly panCiphertext: Uint8Array;
  readonly wrappingKeyId: string;
  readonly wrappedDataKey: Uint8Array;
  /** EMVCo Payment Account Reference: 29 characters, one per PAN across all its tokens. */
  readonly par: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type TokenStatus = 'inactive' | 'active' | 'suspended' | 'deleted';
export type Actor = 'cardholder' | 'wallet' | 'issuer' | 'tsp';

export interface DeviceBinding {
  readonly certificateSerial: string;
  /** SHA-256 of the device certificate, hex. */
  readonly certificateFingerprint: string;
}

export interface TokenRecord {
  readonly id: string;
  readonly dpan: string;
  /** YYMM. */
  readonly tokenExpiry: string;
  readonly status: TokenStatus;
  /** Grows by one on every status change; authorizations compare it (DESIGN invariant 6). */
  readonly statusVersion: number;
  readonly requestorTrid: string;
  readonly panRecordId: string;
  readonly device: DeviceBinding;
  /** Domain restriction controls (EMVCo Payment Tokenisation), stored as JSON. */
  readonly domainControls: Readonly<Record<string, unknown>>;
  readonly assuranceMethod: string;
  readonly createdAt: string;
}

export interface StatusChange {
  readonly tokenId: string;
  readonly statusVersion: number;
  readonly from: TokenStatus | 'none';
  readonly to: TokenStatus;
  readonly actor: Actor;
  readonly reason: string;
  readonly at: string;
}

export interface WrappedKeyRow {
  readonly id: string;
  readonly wrappingKeyId: string;
  readonly wrappedDataKey: Uint8Array;
}

export type Verdict = 'approved' | 'declined';

export interface AtcVerdict {
  readonly tokenId: string;
  readonly atc: number;
  readonly verdict: Verdict;
  readonly reasons: readonly string[];
  readonly statusVersion: number;
  readonly at: string;
}

export type AtcCommitResult =
  | { readonly kind: 'replay'; readonly highWater: number }
  | {
      readonly kind: 'recorded';
      readonly verdict: Verdict;
      readonly reasons: readonly string[];
      readonly statusVersion: number;
    };

export type IdempotencyBegin =
  | { readonly kind: 'started' }
  | { readonly kind: 'replay'; readonly response: unknown }
  | { readonly kind: 'conflict' }
  | { readonly kind: 'in-progress' };

export type IdempotencyRun<T> =
  | { readonly kind: 'executed'; readonly response: T }
  | { readonly kind: 'replay'; readonly response: unknown }
  | { readonly kind: 'conflict' }
  | { readonly kind: 'in-progress' };

export interface AuditEntry {
  readonly seq: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly subject: string;
  readonly details: Readonly<Record<string, unknown>>;
  readonly prevHash: string;
  readonly hash: string;
}

export type AuditVerification =
  | { readonly ok: true; readonly count: number; readonly head: string }
  | { readonly ok: false; readonly seq: number; readonly problem: 'sequence' | 'link' | 'hash' };
