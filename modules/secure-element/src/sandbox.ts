import { fromHex } from '@amulet/bytes';
import type { SecureElement, TokenInfo, TokenPersonalization } from './secure-element.ts';

/**
 * Sandbox test cards. Their issuer master keys are fixed and published (docs/secure-element.md)
 * so anyone can recompute a cryptogram from a tap; they must never be used outside a sandbox.
 * The ICC master key is derived with EMV Book 2 A1.4.1 option A (AES for CVN 22).
 */
export interface SandboxCard extends TokenPersonalization {
  readonly imk: Uint8Array;
}

export const sandboxCards: readonly SandboxCard[] = [
  {
    id: 'sandbox-visa-cvn18',
    profile: 'qvsdc',
    cvn: 18,
    label: 'AMULET VISA',
    pan: '4761739001010010',
    expiry: '301231',
    psn: '01',
    imk: fromHex('0123456789ABCDEFFEDCBA9876543210'),
  },
  {
    id: 'sandbox-mastercard-cvn17',
    profile: 'mchip',
    cvn: 17,
    label: 'AMULET MC',
    pan: '5413330089010012',
    expiry: '301231',
    psn: '00',
    imk: fromHex('89ABCDEF0123456776543210FEDCBA98'),
  },
  {
    id: 'sandbox-visa-cvn22',
    profile: 'qvsdc',
    cvn: 22,
    label: 'AMULET VISA AES',
    pan: '4761739001010036',
    expiry: '301231',
    psn: '00',
    imk: fromHex('000102030405060708090A0B0C0D0E0F'),
  },
];

/** Loads the sandbox cards (or the named subset); the first loaded becomes the default card. */
export function loadSandboxCards(se: SecureElement, ids?: readonly string[]): TokenInfo[] {
  const chosen = ids === undefined ? sandboxCards : sandboxCards.filter((c) => ids.includes(c.id));
  return chosen.map((card) => se.install(card));
}
