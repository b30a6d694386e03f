export { ApduTrace, commandName, formatTrace, TRACE_ENTRIES_MAX, type TraceEntry } from './apdu-trace.ts';
export {
  type CommandIo,
  FACTORY_TOKEN_ENV,
  openWearableDir,
  registerSeCommands,
  registerWearableCommands,
} from './commands.ts';
export { enrollOverHttp, type FactoryEnrollment } from './enroll-over-http.ts';
export {
  decodePhoneCommand,
  encodePhoneCommand,
  PHONE_COMMAND_BYTES_MAX,
  type PhoneAnswer,
  type PhoneCommand,
  WearableError,
} from './phone-commands.ts';
export { Wearable, type WearableOptions } from './wearable.ts';
