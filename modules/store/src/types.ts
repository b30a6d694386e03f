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
      /** The high-water mark before this ATC raised it (-1 for the token's first); for the jump check. */
      readonly previousHighWater: number;
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

/** How the token service provisions a token into the secure element (docs/token-service.md). */
export type ProvisioningState = 'step-up' | 'pending' | 'loading' | 'confirmed' | 'failed';

/** What the token service needs to recompute a token's cryptograms: the token's card profile. */
export interface TokenCard {
  readonly tokenId: string;
  /** Cryptogram version number (EMV Book 2; Visa 10/18/22, Mastercard 16/17). */
  readonly cvn: number;
  /** PAN sequence number, 2 digits. */
  readonly psn: string;
  /** The HSM issuer master key (imk-ac) the token's ICC master key derives from. */
  readonly imkKeyId: string;
  readonly provisioning: ProvisioningState;
  readonly updatedAt: string;
}

/** One token with all that an authorization needs, read in one query. */
export interface AuthorizationView {
  readonly token: TokenRecord;
  readonly card: TokenCard;
  readonly panRecord: PanRecord;
}

export interface WebhookSubscription {
  readonly id: string;
  readonly requestorTrid: string;
  readonly url: string;
  /** Event types delivered; empty means every type. */
  readonly eventTypes: readonly string[];
  readonly createdAt: string;
}

export interface WebhookEvent {
  readonly id: string;
  readonly requestorTrid: string;
  readonly eventType: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly createdAt: string;
}

export type WebhookDeliveryState = 'pending' | 'delivered' | 'failed';

export interface WebhookDelivery {
  readonly eventId: string;
  readonly subscriptionId: string;
  readonly state: WebhookDeliveryState;
  readonly attempts: number;
  readonly nextAttemptAt: string;
  /** HTTP status of the last attempt; 0 when none was made or the request failed before one. */
  readonly lastStatus: number;
}
