/**
 * What the issuer logs: one entry per request or operation. PANs appear only masked (first six,
 * last four); OTPs, keys and field 55 never.
 */
export interface IssuerLogEntry {
  readonly event: string;
  readonly mti?: string;
  readonly stan?: string;
  readonly panMasked?: string;
  readonly responseCode?: string;
  readonly reason?: string;
  readonly outcome?: string;
}

export type IssuerLog = (entry: IssuerLogEntry) => void;
