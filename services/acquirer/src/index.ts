export { authorizationKey, interchangeCodec } from '@amulet/contracts';
export { AcquirerHost, type AcquirerHostOptions } from './acquirer-host.ts';
export {
  AcquirerStore,
  type AcquirerStoreOptions,
  type AuthorizationRecord,
  type Capture,
  type Merchant,
  type TerminalRecord,
} from './acquirer-store.ts';
export { acquirerMigrations } from './migrations.ts';
export { type AuthorizationState, finalStates } from './schema.ts';
