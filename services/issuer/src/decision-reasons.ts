import { ResponseCode, type ResponseCodeValue } from '@amulet/contracts';

/**
 * Every reason the issuer gives, with its ISO 8583:1987 field 39 code, in the order the checks
 * run (the first that applies decides). docs/issuer.md lists the same table; a test keeps them equal.
 */
export const decisionReasons = {
  // Any request.
  REVERSED_BEFORE_ARRIVAL: {
    code: ResponseCode.invalidTransaction,
    description: 'a reversal for this transaction arrived before it',
  },
  CARD_UNKNOWN: { code: ResponseCode.invalidCardNumber, description: 'no card has this PAN' },
  CARD_BLOCKED: { code: ResponseCode.restrictedCard, description: 'the card is blocked' },
  CARD_LOST: { code: ResponseCode.restrictedCard, description: 'the card was reported lost' },
  CARD_CLOSED: {
    code: ResponseCode.restrictedCard,
    description: 'the card is closed (or replaced by a reissue)',
  },
  CARD_EXPIRED: { code: ResponseCode.expiredCard, description: 'the card is past its expiry month' },
  EXPIRY_MISMATCH: { code: ResponseCode.expiredCard, description: "field 14 differs from the card's expiry" },
  // Purchases.
  CURRENCY_MISMATCH: {
    code: ResponseCode.invalidTransaction,
    description: "field 49 is not the account's currency",
  },
  AMOUNT_INVALID: { code: ResponseCode.invalidAmount, description: 'the amount is zero or beyond n12' },
  TRANSACTION_LIMIT: {
    code: ResponseCode.exceedsWithdrawalLimit,
    description: "above the card's per-transaction limit",
  },
  RISK_DECLINE: { code: ResponseCode.suspectedFraud, description: 'the risk rules declined it' },
  DAILY_LIMIT: {
    code: ResponseCode.exceedsWithdrawalLimit,
    description: "above what is left of the card's daily limit",
  },
  INSUFFICIENT_FUNDS: {
    code: ResponseCode.insufficientFunds,
    description: 'available balance minus the amount would go below the limit',
  },
  // Account verification (ID&V).
  IDV_RISK_DECLINE: {
    code: ResponseCode.doNotHonour,
    description: 'the risk rules declined the provisioning',
  },
  IDV_STEP_UP: {
    code: ResponseCode.additionalAuthenticationRequired,
    description: 'yellow: an OTP was sent to the cardholder',
  },
  // OTP check.
  OTP_NONE: { code: ResponseCode.incorrectPin, description: 'no OTP is open for the card' },
  OTP_EXPIRED: { code: ResponseCode.incorrectPin, description: 'the latest OTP expired' },
  OTP_TRIES_EXCEEDED: { code: ResponseCode.incorrectPin, description: 'the latest OTP has no tries left' },
  OTP_MISMATCH: { code: ResponseCode.incorrectPin, description: 'the code is not the latest OTP' },
  // Malformed requests.
  FORMAT_ERROR: { code: ResponseCode.formatError, description: 'a required field is missing or malformed' },
  SYSTEM_ERROR: {
    code: ResponseCode.systemMalfunction,
    description: 'the issuer could not complete the request',
  },
} as const satisfies Record<string, { code: ResponseCodeValue; description: string }>;

export type DecisionReason = keyof typeof decisionReasons;
