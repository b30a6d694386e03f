import { IssuerError } from './issuer-error.ts';

/** One line of a posting: a ledger account and a signed amount in minor units. */
export interface LedgerLine {
  readonly account: string;
  readonly amountMinor: number;
}

export type PostingKind = 'deposit' | 'hold' | 'stand-in-hold' | 'release' | 'capture';

/**
 * The ledger accounts. A cardholder account has its balance on `customer:<id>` and its holds on
 * `holds:<id>` (balanced by `holds-contra:<id>`); captures move money to the network settlement
 * account; deposits come from funding. Every posting sums to zero, so the whole ledger does.
 */
export const ledgerAccount = {
  customer: (accountId: string) => `customer:${accountId}`,
  holds: (accountId: string) => `holds:${accountId}`,
  holdsContra: (accountId: string) => `holds-contra:${accountId}`,
  settlement: 'settlement:network',
  funding: 'funding',
} as const;

/** Money moves in minor units, as whole numbers within ISO 8583 field 4 (n12). */
export const maxAmountMinor = 999_999_999_999;

export function checkBalanced(lines: readonly LedgerLine[]): readonly LedgerLine[] {
  let sum = 0;
  for (const line of lines) {
    if (!Number.isSafeInteger(line.amountMinor))
      throw new IssuerError('ERR_ISSUER_LEDGER', 'a ledger amount is not a whole number');
    sum += line.amountMinor;
  }
  if (sum !== 0 || lines.length < 2) throw new IssuerError('ERR_ISSUER_LEDGER', 'a posting does not balance');
  return lines;
}

/** The lines of each posting kind. */
export const postingLines = {
  deposit: (accountId: string, amount: number) =>
    checkBalanced([
      { account: ledgerAccount.customer(accountId), amountMinor: amount },
      { account: ledgerAccount.funding, amountMinor: -amount },
    ]),
  hold: (accountId: string, amount: number) =>
    checkBalanced([
      { account: ledgerAccount.holds(accountId), amountMinor: amount },
      { account: ledgerAccount.holdsContra(accountId), amountMinor: -amount },
    ]),
  release: (accountId: string, amount: number) =>
    checkBalanced([
      { account: ledgerAccount.holds(accountId), amountMinor: -amount },
      { account: ledgerAccount.holdsContra(accountId), amountMinor: amount },
    ]),
  /** The hold goes away in full; the captured amount (at most the hold) leaves the balance. */
  capture: (accountId: string, held: number, captured: number) =>
    checkBalanced([
      { account: ledgerAccount.holds(accountId), amountMinor: -held },
      { account: ledgerAccount.holdsContra(accountId), amountMinor: held },
      { account: ledgerAccount.customer(accountId), amountMinor: -captured },
      { account: ledgerAccount.settlement, amountMinor: captured },
    ]),
  /** Clearing after the hold expired (and was released): only the money moves. */
  captureWithoutHold: (accountId: string, captured: number) =>
    checkBalanced([
      { account: ledgerAccount.customer(accountId), amountMinor: -captured },
      { account: ledgerAccount.settlement, amountMinor: captured },
    ]),
} as const;
