export * as apiSchemas from './api-schemas.ts';
export { EventHub, type PushEvent } from './event-hub.ts';
export { walletMigrations } from './migrations.ts';
export { attestationContext } from './routes/device-routes.ts';
export {
  hashPassword,
  newId,
  type RandomSource,
  SCRYPT_DEFAULT,
  type ScryptParams,
  verifyPassword,
} from './secrets.ts';
export {
  signStandardWebhook,
  verifyStandardWebhook,
  WEBHOOK_TOLERANCE_SECONDS,
} from './standard-webhooks.ts';
export {
  type HttpTspClientOptions,
  httpTspClient,
  type TspActor,
  type TspClient,
  type TspLifecycleAction,
  type TspProvisioningStep,
  type TspStatusOutcome,
  type TspToken,
  type TspTokenizeRequest,
  type TspTokenizeResult,
  type TspTokenStatus,
} from './tsp-client.ts';
export type * from './types.ts';
export { CARD_STATUSES, DEVICE_COMMAND_KINDS, DEVICE_STATES } from './types.ts';
export { buildWalletApp } from './wallet-app.ts';
export type { Principal, WalletOptions } from './wallet-context.ts';
export {
  type ProblemDocument,
  problem,
  WALLET_PROBLEMS,
  WalletError,
  type WalletProblemCode,
} from './wallet-error.ts';
export {
  type Clock,
  type IdempotencyBegin,
  type Owner,
  WalletStore,
  type WalletStoreOptions,
} from './wallet-store.ts';
