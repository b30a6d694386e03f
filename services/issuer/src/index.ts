// The issuer host: accounts, cards, ledger and decisions as a library, and its ISO 8583 endpoint.

/**
 * ISO 8583:1987 on the wire: the one codec of the interchange (@amulet/contracts
 * `interchangeCodec`), re-exported under its former name for existing callers.
 */
export { interchangeCodec as iso8583Codec } from '@amulet/contracts';
export type { AuthorizationAnswer } from './authorization-answer.ts';
export type { PurchaseRequest } from './authorize-purchase.ts';
export type { CaptureBatchResult, CaptureRequest, CaptureResult } from './capture-authorization.ts';
export { isExpired, isPan, luhnValid, maskCardNumber, newPan } from './card-number.ts';
export { ensureIssuerKeys, type IssuerKeys } from './card-protection.ts';
export { type CardStatus, cardStatuses, nextCardStatus } from './card-status.ts';
export { type DecisionReason, decisionReasons } from './decision-reasons.ts';
export { defaultIssuerRules } from './default-rules.ts';
export type { HoldExpiry } from './expire-holds.ts';
export {
  type Account,
  type Card,
  type CardReissuedEvent,
  type IssuedCard,
  Issuer,
  type IssuerOptions,
  type LedgerCheck,
  type NewAccount,
  type NewCard,
} from './issuer.ts';
export {
  issuerMessageHandler,
  listenIssuer,
  originalTransactionKey,
  requestTransactionKey,
  responseMti,
} from './issuer-endpoint.ts';
export { IssuerError, type IssuerErrorCode, issuerErrorCodes } from './issuer-error.ts';
export type { IssuerLog, IssuerLogEntry } from './issuer-log.ts';
export { issuerMigrations } from './issuer-migrations.ts';
export { checkBalanced, type LedgerLine, ledgerAccount, type PostingKind, postingLines } from './ledger.ts';
export type { AdviceRequest } from './post-advice.ts';
export { newId, type RandomBytes, randomBytesFrom } from './random-source.ts';
export type { ReversalAnswer, ReversalOutcome, ReversalRequest } from './reverse-authorization.ts';
export type { OtpCheckRequest, OtpMessage, VerificationRequest } from './verify-account.ts';
