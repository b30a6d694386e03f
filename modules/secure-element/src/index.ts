export {
  executableModules,
  type InstallForInstall,
  installForInstallData,
  installForPersonalizationData,
  parseAidObject,
  parseInstallForInstall,
  parseInstallForPersonalization,
} from './card-content.ts';
export { cplc, ISD_AID, LifeCycle } from './card-manager.ts';
export {
  type ConfirmationFields,
  type ConfirmationResult,
  type ConfirmedAction,
  signConfirmation,
  verifyConfirmation,
} from './confirmation.ts';
export {
  type ConformanceCheck,
  type ConformanceOutcome,
  conformanceChecks,
  runConformance,
} from './conformance.ts';
export {
  ATTESTATION_CALLER_CONTEXT_BYTES_MAX,
  type AttestationState,
  attestationContext,
  decodeAttestationContext,
} from './device-identity.ts';
export {
  ecdh,
  generatePrivateScalar,
  P256_POINT_BYTES,
  pointFromSpki,
  publicPoint,
  spkiFromPoint,
} from './p256.ts';
export {
  type AcType,
  AFL,
  AIP,
  CTQ_CDCVM,
  CVR_CDCVM,
  coveredTerminalTags,
  cryptogramData,
  cvrOf,
  mchipCdol1,
  PPSE_NAME,
  qvsdcPdol,
} from './payment-applet.ts';
export {
  deleteScript,
  installedAids,
  type PersonalizationCard,
  personalizationScript,
  personalizationScriptSealed,
  putScp03Keys,
  type ScriptOutcome,
  type SealedIccKey,
  sealIccKey,
  setStatusScript,
} from './personalization.ts';
export {
  decodePersonalizationData,
  encodePersonalizationData,
  type PersonalizationData,
  TOKEN_ID_PATTERN,
} from './personalization-data.ts';
export { loadSandboxCards, type SandboxCard, sandboxCards } from './sandbox.ts';
export {
  Scp03CardSession,
  Scp03Constant,
  Scp03Error,
  type Scp03Keys,
  type Scp03SessionKeys,
  SecurityLevel,
  scp03Kdf,
  scp03SessionKeys,
} from './scp03.ts';
export {
  type CardKeyAgreement,
  cardKeyAgreement,
  hostKeyAgreement,
  SCP11_KEY_LENGTH,
  SCP11_KEY_TYPE_AES,
  SCP11_KEY_USAGE,
  SCP11_SECURITY_LEVEL,
  Scp11Kid,
  type Scp11SessionKeys,
  type Scp11Variant,
  scp11ControlTemplate,
  scp11Receipt,
  scp11SessionKeys,
} from './scp11.ts';
export {
  type ApduTransmit,
  type HostResponse,
  type Scp11HostOptions,
  Scp11HostSession,
  splitCertificates,
  transmitCollecting,
} from './scp11-host.ts';
export {
  type BlobStore,
  fileBlobStore,
  fileCounter,
  type MonotonicCounter,
  memoryBlobStore,
  memoryCounter,
  seal,
  unseal,
} from './sealed-storage.ts';
export {
  type CdcvmPolicy,
  defaultCdcvmPolicy,
  MAX_TOKENS,
  PIN_TRIES,
  type PinResult,
  SD_ECKA_KVN,
  SecureElement,
  type SecureElementOptions,
  SeStatus,
  type TokenInfo,
  type TokenPersonalization,
  type WearerInterface,
} from './secure-element.ts';
export { SecureElementError } from './secure-element-error.ts';
export { pad16, Scp03HostChannel, unpad16 } from './secure-messaging.ts';
export { baseAids, type Profile, profileCvns, type SupportedCvn, type TokenStatus } from './state.ts';
export { TapError, type TapOptions, type TapResult, tap } from './terminal.ts';
export { inProcessTransport, type SeTransport } from './transport.ts';
export {
  connectVpcd,
  encodeVpcdFrame,
  VPCD_ATR,
  VPCD_PORT_DEFAULT,
  type VpcdCard,
  VpcdControl,
  VpcdFrameReader,
} from './vpcd-transport.ts';
export {
  WEBSOCKET_MESSAGE_BYTES_MAX,
  WEBSOCKET_TIMEOUT_MS_DEFAULT,
  type WebSocketSeServer,
  webSocketSeServer,
  webSocketTransport,
} from './websocket-transport.ts';
export { X963_KEY_DATA_BYTES_MAX, x963Kdf } from './x963-kdf.ts';
