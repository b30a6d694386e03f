export {
  authorizationKey,
  editMessage,
  institutionId,
  interchangeCodec,
  isResponseMti,
  originalAuthorizationKey,
  responseTo,
  text,
} from '@amulet/contracts';
export {
  type AdviceKind,
  AdviceStore,
  type AdviceStoreOptions,
  networkMigrations,
  type StoredAdvice,
} from './advice-store.ts';
export { type LogEntry, MessageLog, maskedFields } from './message-log.ts';
export { NetworkSwitch, type NetworkSwitchOptions, type StandInLimit } from './network-switch.ts';
export { type BinRange, RoutingError, RoutingTable } from './routing-table.ts';
