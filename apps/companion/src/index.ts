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
export { SimulatedWearable } from './simulated-wearable.ts';
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
  type WearableTransport,
} from './wearable-link.ts';
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
} from './wearer-messages.ts';
