import { CompactEncrypt, importJWK } from 'jose';
import { CompanionError } from './companion-error.ts';

/** What the user types on the phone. It leaves the phone only as a JWE to the TSP. */
export interface CardEntry {
  readonly pan: string;
  /** YYMM. */
  readonly expiry: string;
  readonly cvv?: string;
  readonly cardholderName?: string;
}

/** The algorithms the token service accepts (RFC 7518 4.6 ECDH-ES+A256KW, 5.3 A256GCM). */
export const CARD_JWE_ALG = 'ECDH-ES+A256KW';
export const CARD_JWE_ENC = 'A256GCM';

/** ISO/IEC 7812-1 Annex B (Luhn). */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Checks the entry; the error names the field, never its value. */
export function checkCardEntry(card: CardEntry): void {
  if (typeof card.pan !== 'string' || !/^\d{13,19}$/.test(card.pan) || !luhnValid(card.pan))
    throw new CompanionError('ERR_COMPANION_CARD', 'the card number is not valid');
  if (typeof card.expiry !== 'string' || !/^\d{2}(0[1-9]|1[0-2])$/.test(card.expiry))
    throw new CompanionError('ERR_COMPANION_CARD', 'the expiry must be YYMM');
  if (card.cvv !== undefined && !/^\d{3,4}$/.test(card.cvv))
    throw new CompanionError('ERR_COMPANION_CARD', 'the security code must be 3 or 4 digits');
  if (
    card.cardholderName !== undefined &&
    (card.cardholderName.length < 1 || card.cardholderName.length > 64)
  )
    throw new CompanionError('ERR_COMPANION_CARD', 'the cardholder name must be 1 to 64 characters');
}

/** The network a PAN belongs to by its leading digits (what the app shows while typing). */
export function networkOf(pan: string): 'visa' | 'mastercard' | 'amex' | 'discover' | undefined {
  if (/^4/.test(pan)) return 'visa';
  if (/^(5[1-5]|2[2-7])/.test(pan)) return 'mastercard';
  if (/^3[47]/.test(pan)) return 'amex';
  if (/^6(011|5)/.test(pan)) return 'discover';
  return undefined;
}

/**
 * Encrypts the card data as a compact JWE (RFC 7516) to the TSP's public key: the wallet relays
 * it and cannot read it (DESIGN.md flow 4). The plaintext is the JSON `{ pan, expiry, cvv?, cardholderName? }`.
 */
export async function encryptCardData(card: CardEntry, tspJwk: Record<string, string>): Promise<string> {
  checkCardEntry(card);
  if (
    tspJwk.kty !== 'EC' ||
    tspJwk.crv !== 'P-256' ||
    typeof tspJwk.x !== 'string' ||
    typeof tspJwk.y !== 'string'
  )
    throw new CompanionError('ERR_COMPANION_CARD', 'the TSP key must be an EC P-256 JWK');
  const key = await importJWK({ kty: 'EC', crv: 'P-256', x: tspJwk.x, y: tspJwk.y }, CARD_JWE_ALG);
  const plaintext = new TextEncoder().encode(
    JSON.stringify({
      pan: card.pan,
      expiry: card.expiry,
      ...(card.cvv === undefined ? {} : { cvv: card.cvv }),
      ...(card.cardholderName === undefined ? {} : { cardholderName: card.cardholderName }),
    }),
  );
  return new CompactEncrypt(plaintext)
    .setProtectedHeader({
      alg: CARD_JWE_ALG,
      enc: CARD_JWE_ENC,
      ...(tspJwk.kid === undefined ? {} : { kid: tspJwk.kid }),
    })
    .encrypt(key);
}
