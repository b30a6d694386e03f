// The token service provider (TSP): vault, tokenization with ID&V, lifecycle, detokenization and
// cryptogram validation over ISO 8583 (issue 6).

/**
 * ISO 8583:1987 on the wire: the one codec of the interchange (@amulet/contracts
 * `interchangeCodec`), re-exported under its former name for existing callers.
 */
export { interchangeCodec as iso8583Codec } from '@amulet/contracts';
export { ApduRelay, RelayAbortedError, type RelayEvent } from './apdu-relay.ts';
export * as apiSchemas from './api-schemas.ts';
export { authorizationHandler, startAuthorizationServer } from './authorization-server.ts';
export {
  type AuthorizationVerdict,
  Authorizer,
  type AuthorizerOptions,
  VerdictReason,
} from './authorizer.ts';
export { type CardData, concatKdf, decryptCardJwe, JWE_ALG, JWE_ENC, jwePublicJwk } from './card-jwe.ts';
export { CardProtection, type CardProtectionKeys, type CardSecret } from './card-protection.ts';
export { DeviceCertificates, type DeviceCheck, type DeviceTrustConfig } from './device-certificate.ts';
export { buildHttpApi, type HttpApiOptions } from './http-api.ts';
export {
  type IdvDecision,
  type IdvGateway,
  type IdvRequest,
  Iso8583IdvGateway,
  idvDecisionOf,
  idvRequestMessage,
  idvTerminalId,
} from './idv.ts';
export { maskDigits, maskPan } from './mask.ts';
export { isPan, networkOf, newDpan, newPar } from './numbers.ts';
export {
  type LoadOutcome,
  type LoadRequest,
  Provisioner,
  type ProvisionerOptions,
  ProvisioningFailure,
  type RelayStep,
  type SecureElementLoader,
} from './provisioning.ts';
export { applicationExpiry, Scp11Loader, type Scp11LoaderOptions } from './scp11-loader.ts';
export { LIFECYCLE_ACTIONS, type LifecycleAction, nextStatus } from './token-lifecycle.ts';
export {
  AssuranceMethod,
  type NetworkProfile,
  type StatusOutcome,
  type TokenizeInput,
  type TokenizeOutcome,
  TokenService,
  type TokenServiceKeys,
  type TokenServiceOptions,
  type TokenView,
} from './token-service.ts';
export { TokenServiceError, type TokenServiceErrorCode, tokenServiceErrors } from './token-service-error.ts';
export { transmissionDateTime } from './transmission-date-time.ts';
export {
  fetchSender,
  type SignedWebhook,
  signWebhook,
  type WebhookOptions,
  type WebhookSender,
  Webhooks,
} from './webhooks.ts';
export { newId, randomBelow, type World } from './world.ts';
