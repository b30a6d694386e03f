export {
  authorizationKey,
  institutionId,
  interchangeCodec,
  isResponseMti,
  text,
} from './interchange-codec.ts';
export { editMessage, responseTo } from './message-edit.ts';
export { type LogEntry, MessageLog, maskedFields } from './message-log.ts';
export { NetworkSwitch, type NetworkSwitchOptions, type StandInLimit } from './network-switch.ts';
export { originalAuthorizationKey } from './original-key.ts';
export { type BinRange, RoutingError, RoutingTable } from './routing-table.ts';
