import { AmuletError } from '@amulet/bytes';

/**
 * Thrown by the companion. Codes:
 * - `ERR_COMPANION_WALLET`: the wallet answered with a problem (its `code` in `problem`).
 * - `ERR_COMPANION_CARD`: card data that cannot be a card (Luhn, expiry, CVV format): checked before encrypting.
 * - `ERR_COMPANION_SAS`: the user said the short codes on the phone and the wearable differ.
 * - `ERR_COMPANION_WEARABLE`: the wearable answered with an error or a message that does not parse.
 * - `ERR_COMPANION_STATE`: a step called out of order (no session, no paired wearable).
 * Messages never contain a card number, a PIN or a key.
 */
export class CompanionError extends AmuletError {
  readonly problem: { readonly code: string; readonly status: number; readonly reason?: string } | undefined;
  constructor(code: string, message: string, problem?: CompanionError['problem']) {
    super(code, message);
    this.problem = problem;
  }
}
