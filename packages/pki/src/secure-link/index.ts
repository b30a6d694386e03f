export {
  type EphemeralInput,
  finishPhoneHandshake,
  finishWearableHandshake,
  type PhoneHandshake,
  respondWearableHandshake,
  startPhoneHandshake,
  type WearableChainCheck,
  type WearableHandshake,
  type WearableRespondInput,
} from './handshake.ts';
export {
  decodePhoneFinished,
  decodePhoneHello,
  decodeWearableHello,
  encodePhoneHello,
  LINK_VERSION,
  MESSAGE_TYPE,
  type PhoneHello,
  type WearableHello,
} from './handshake-messages.ts';
export { deriveLinkKeys, type LinkKeys } from './key-schedule.ts';
export { LinkError } from './link-error.ts';
export {
  type OpenedRecord,
  RECORD_HEADER_BYTES,
  RECORD_PLAINTEXT_MAX,
  RECORD_TAG_BYTES,
  RECORD_TYPE,
  SecureLinkSession,
} from './secure-link-session.ts';
