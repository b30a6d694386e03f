export { cplc, ISD_AID, LifeCycle } from './card-manager.ts';
export {
  type ConformanceCheck,
  type ConformanceOutcome,
  conformanceChecks,
  runConformance,
} from './conformance.ts';
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
  SecureElement,
  type SecureElementOptions,
  SeStatus,
  type TokenInfo,
  type TokenPersonalization,
  type WearerInterface,
} from './secure-element.ts';
export { SecureElementError } from './secure-element-error.ts';
export { baseAids, type Profile, profileCvns, type SupportedCvn, type TokenStatus } from './state.ts';
export { TapError, type TapOptions, type TapResult, tap } from './terminal.ts';
export { inProcessTransport, type SeTransport } from './transport.ts';
