/** Certificate lifetimes (docs/root-of-trust.md, "Certificate profiles"). */
export const DAY_MS = 86_400_000;
export const LIFETIME_DAYS = {
  root: 25 * 365,
  'device-ca': 20 * 365,
  'service-ca': 20 * 365,
  device: 15 * 365,
  service: 397,
} as const;
/** notBefore is set this far back, for devices whose clocks run slow. */
export const BACKDATE_MS = 5 * 60_000;
export const CRL_LIFETIME_DAYS = { root: 365, issuing: 7 } as const;
export const OCSP_RESPONSE_LIFETIME_MS = 60 * 60_000;

export function plusMs(date: Date, ms: number): Date {
  return new Date(date.getTime() + ms);
}

/** Drops milliseconds: X.509 and OCSP times are whole seconds (RFC 5280 section 4.1.2.5.2). */
export function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}
