// The wearer messages are the wearable's one phone protocol (@amulet/wearable), re-exported here.
export {
  DEVICE_COMMANDS,
  type DeviceCommandKind,
  decodeWearerRequest,
  decodeWearerResponse,
  encodeWearerRequest,
  encodeWearerResponse,
  PIN_STATUSES,
  type PinStatus,
  type WearerRequest,
  type WearerResponse,
} from '@amulet/wearable';
export {
  CARD_JWE_ALG,
  CARD_JWE_ENC,
  type CardEntry,
  checkCardEntry,
  encryptCardData,
  luhnValid,
  networkOf,
} from './card-encryption.ts';
export { Companion, type CompanionOptions, walletContext } from './companion.ts';
export { type CommandIo, registerCompanion } from './companion-command.ts';
export { CompanionError } from './companion-error.ts';
export {
  parseEvent,
  type WalletCard,
  WalletClient,
  type WalletClientOptions,
  type WalletCommand,
  type WalletDevice,
  type WalletEvent,
} from './wallet-client.ts';
export {
  PairedWearable,
  type PairingOptions,
  pairWearable,
  reconnectWearable,
  WEARABLE_TIMEOUT_MS_DEFAULT,
  type WearableTransport,
  webSocketWearable,
} from './wearable-link.ts';
