/** What the SE keeps in sealed storage (serialized as JSON, then sealed). Hex is upper case. */

export type Profile = 'qvsdc' | 'mchip';
export type TokenStatus = 'active' | 'suspended' | 'deleted';
export type SupportedCvn = 17 | 18 | 22;

/** Which CVNs each profile speaks: Visa CVN 18 (3DES) and 22 (AES); Mastercard CVN 17. */
export const profileCvns: Readonly<Record<Profile, readonly SupportedCvn[]>> = {
  qvsdc: [18, 22],
  mchip: [17],
};

/** Registered application provider identifiers with their credit/debit PIX (EMV Book 1 12.2.1). */
export const baseAids: Readonly<Record<Profile, string>> = {
  qvsdc: 'A0000000031010',
  mchip: 'A0000000041010',
};

export interface TokenRecord {
  readonly id: string;
  readonly profile: Profile;
  readonly cvn: SupportedCvn;
  /** The ADF name this instance answers to: the brand AID, with a 1-byte suffix after the first. */
  readonly aid: string;
  readonly label: string;
  /** The DPAN. */
  readonly pan: string;
  /** YYMMDD. */
  readonly expiry: string;
  readonly psn: string;
  /** The ICC master key for application cryptograms (MK-AC), derived by the issuer. */
  readonly mkAc: string;
  readonly keyDerivationIndex: number;
  atc: number;
  status: TokenStatus;
}

export interface PinRecord {
  readonly salt: string;
  readonly hash: string;
  tries: number;
  readonly maxTries: number;
}

export interface SeState {
  tokens: TokenRecord[];
  /** Token ids, highest priority (the default card) first; deleted tokens are not listed. */
  order: string[];
  pin?: PinRecord;
  /** The SCP03 sequence counter (GlobalPlatform Amendment D §6.2.2.1), raised at each INITIALIZE UPDATE. */
  scpCounter?: number;
  /** The ISD's SCP03 key set written by PUT KEY (hex); it replaces the one given at open. */
  scp03?: { readonly kvn: number; readonly enc: string; readonly mac: string; readonly dek: string };
  /**
   * The device identity (DESIGN.md flow 1): the P-256 private scalar generated inside, which no
   * command exports, and the certificate chain the device CA issued for it (DER, leaf first).
   * It is also the SCP11 key SK.SD.ECKA with CERT.SD.ECKA (GlobalPlatform Amendment F).
   */
  identity?: { readonly privateKey: string; certificates: string[] };
}

export function emptyState(): SeState {
  return { tokens: [], order: [] };
}
