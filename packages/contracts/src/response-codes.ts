// ISO 8583:1987 field 39 (response code) values that Amulet's parties use, with the meaning each
// one carries on the authorization path. Field 39 is an..2, so network-private codes are allowed;
// the one we use ('1A') follows the card networks' use for "additional authentication required".

export const ResponseCode = {
  approved: '00',
  referToIssuer: '01',
  invalidMerchant: '03',
  doNotHonour: '05',
  invalidTransaction: '12',
  invalidAmount: '13',
  invalidCardNumber: '14',
  /** Unable to locate the record on file: here, no approved authorization that a reversal could name. */
  originalNotFound: '25',
  formatError: '30',
  insufficientFunds: '51',
  expiredCard: '54',
  incorrectPin: '55',
  transactionNotPermittedToCardholder: '57',
  transactionNotPermittedToTerminal: '58',
  suspectedFraud: '59',
  exceedsWithdrawalLimit: '61',
  restrictedCard: '62',
  exceedsFrequencyLimit: '65',
  pinTriesExceeded: '75',
  /** The token's cryptogram, ATC or domain failed validation at the token service. */
  cryptogramFailure: '82',
  issuerUnavailable: '91',
  duplicateTransmission: '94',
  systemMalfunction: '96',
  /** Additional cardholder authentication required (ID&V step-up, or CVM required). */
  additionalAuthenticationRequired: '1A',
} as const;

export type ResponseCodeName = keyof typeof ResponseCode;
export type ResponseCodeValue = (typeof ResponseCode)[ResponseCodeName];

const meanings: Readonly<Record<string, string>> = {
  '00': 'approved',
  '01': 'refer to card issuer',
  '03': 'invalid merchant',
  '05': 'do not honour',
  '12': 'invalid transaction',
  '13': 'invalid amount',
  '14': 'invalid card number',
  '25': 'unable to locate original',
  '30': 'format error',
  '51': 'insufficient funds',
  '54': 'expired card',
  '55': 'incorrect PIN',
  '57': 'transaction not permitted to cardholder',
  '58': 'transaction not permitted to terminal',
  '59': 'suspected fraud',
  '61': 'exceeds amount limit',
  '62': 'restricted card',
  '65': 'exceeds frequency limit',
  '75': 'PIN tries exceeded',
  '82': 'token validation failed (cryptogram, ATC or domain)',
  '91': 'issuer or switch inoperative',
  '94': 'duplicate transmission',
  '96': 'system malfunction',
  '1A': 'additional authentication required',
};

/** A short human meaning for a field 39 value; unknown codes say so. */
export function describeResponseCode(code: string): string {
  return meanings[code] ?? `unknown response code ${JSON.stringify(code)}`;
}

/** True when a field 39 value approves the request. */
export function isApproval(code: string | undefined): boolean {
  return code === '00';
}
