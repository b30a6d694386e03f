export {
  type CardData,
  type CardRead,
  cdcvmFromIad,
  combinations,
  type Exchange,
  KernelError,
  type KernelTransaction,
  readCard,
} from './kernel.ts';
export { defaultKernelConfig, type KernelConfig, type SupportedApplication } from './kernel-config.ts';
export { authorizationRequest, iccData, type TerminalIdentity } from './online-request.ts';
export { type Outcome, type OutcomeStatus, outcome } from './outcome.ts';
export {
  answerOutcome,
  PosTerminal,
  type PosTerminalOptions,
  type TapReport,
  terminalReversalOf,
} from './pos-terminal.ts';
export { type RunTapOptions, runTap } from './run-tap.ts';
export { fileTerminalJournal, type TerminalJournal, TerminalJournalError } from './terminal-journal.ts';
