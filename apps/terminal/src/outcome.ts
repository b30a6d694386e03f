/**
 * What the cashier sees at the end of a tap (EMV Book A 6.2, outcomes), with the reason as a
 * stable code a program can branch on:
 * - approved: the issuer (or the network on its behalf) approved online;
 * - declined: by the issuer, the network, the token service, or offline by the card;
 * - try-another-interface: contactless is not allowed for this amount (contact chip instead);
 * - see-phone: the wearer must verify on the device (CDCVM) or unlock it, then tap again;
 * - end-application: the card could not be read; nothing was sent.
 */
export type OutcomeStatus =
  | 'approved'
  | 'declined'
  | 'try-another-interface'
  | 'see-phone'
  | 'end-application';

export interface Outcome {
  readonly status: OutcomeStatus;
  /** A stable code: 'approved', 'issuer-declined', 'offline-declined', 'no-response', 'cvm-required'... */
  readonly reason: string;
  /** The line on the cashier's display. */
  readonly message: string;
  /** Field 39 of the answer, when one came. */
  readonly responseCode?: string;
  /** Field 38, the approval code, on approval. */
  readonly authorizationId?: string;
}

export function outcome(
  status: OutcomeStatus,
  reason: string,
  message: string,
  extra: Partial<Outcome> = {},
): Outcome {
  return { status, reason, message, ...extra };
}
