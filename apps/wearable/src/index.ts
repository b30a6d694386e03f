export { ApduTrace, commandName, formatTrace, TRACE_ENTRIES_MAX, type TraceEntry } from './apdu-trace.ts';
export {
  type CommandIo,
  FACTORY_TOKEN_ENV,
  openWearableDir,
  registerSeCommands,
  registerWearableCommands,
} from './commands.ts';
export { enrollOverHttp, type FactoryEnrollment } from './enroll-over-http.ts';
export { Wearable, type WearableOptions } from './wearable.ts';
export { WearableError } from './wearable-error.ts';
export {
  LINK_MESSAGE_BYTES_MAX,
  serveWearableLink,
  type WearableLinkEndpoint,
  type WearableLinkServer,
} from './wearable-link-server.ts';
export {
  DEVICE_COMMANDS,
  type DeviceCommandKind,
  decodeWearerRequest,
  decodeWearerResponse,
  encodeWearerRequest,
  encodeWearerResponse,
  PIN_STATUSES,
  type PinStatus,
  WEARER_APDU_BYTES_MAX,
  WEARER_ERROR_CODES,
  WEARER_MESSAGE_BYTES_MAX,
  WEARER_MESSAGE_VERSION,
  type WearableCard,
  type WearableCardStatus,
  type WearerRequest,
  type WearerResponse,
} from './wearer-messages.ts';
