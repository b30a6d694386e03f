// The token service provider (TSP): vault, tokenization with ID&V, lifecycle, detokenization and
// cryptogram validation over ISO 8583 (issue 6).

export * as apiSchemas from './api-schemas.ts';
export { startAuthorizationServer } from './authorization-server.ts';
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
} from './idv.ts';
export { iso8583Codec, transmissionDateTime } from './iso8583-codec.ts';
export { maskDigits, maskPan } from './mask.ts';
export { isPan, networkOf, newDpan, newPar } from './numbers.ts';
export {
  MacConfirmedLoader,
  type Personalization,
  PersonalizationTag,
  Provisioner,
  type ProvisionerOptions,
  parsePersonalizationCommand,
  type RelayStep,
  receiptData,
  type SecureElementLoader,
} from './provisioning.ts';
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
export {
  fetchSender,
  type SignedWebhook,
  signWebhook,
  type WebhookOptions,
  type WebhookSender,
  Webhooks,
} from './webhooks.ts';
export { newId, randomBelow, type World } from './world.ts';
