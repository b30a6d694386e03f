export {
  ATTESTATION_CONTEXT_BYTES_MAX,
  ATTESTATION_NONCE_BYTES,
  type AttestationFailure,
  type AttestationInput,
  type AttestationResult,
  type AttestationVerifier,
  attestationMessage,
  createAttestationVerifier,
  verifyAttestation,
} from './attestation.ts';
export {
  type CertificateProfile,
  keyIdentifier,
  type ProfileOptions,
  profileExtensions,
  SERVICE_ROLES,
  type ServiceRole,
} from './certificate-profile.ts';
export { buildCrl, type CrlInput, type RevokedEntry, serialFromHex } from './certificate-revocation-list.ts';
export { buildCsr, type VerifiedCsr, verifyCsr } from './certification-request.ts';
export {
  CHAIN_FAILURES,
  type ChainCheck,
  type ChainFailure,
  type ChainPurpose,
  type ChainResult,
  type ChainVerifier,
  type ChainVerifierConfig,
  createChainVerifier,
  type RevocationLookup,
  type RevocationStatus,
} from './chain-verifier.ts';
export {
  checkIdentifier,
  type DeviceAttributes,
  decodeDeviceAttributes,
  encodeDeviceAttributes,
  SE_TYPES,
  type SeType,
} from './device-attributes.ts';
export { decodeName, encodeName, formatName, type NameFields } from './distinguished-name.ts';
export { publicKeyFromSpki, verifyEcdsa } from './ecdsa-verify.ts';
export { checkSerialNumber, type IssueCertificateInput, issueCertificate } from './issue-certificate.ts';
export {
  certIdMatchesIssuer,
  OCSP_MAX_REQUESTS,
  type OcspCertId,
  type OcspRequestInfo,
  parseOcspRequest,
} from './ocsp-request.ts';
export {
  buildOcspResponse,
  type OcspAnswer,
  type OcspCertStatus,
  type OcspErrorStatus,
  type OcspResponseInput,
  ocspErrorResponse,
} from './ocsp-response.ts';
export { OID } from './oids.ts';
export { type ParsedCertificate, parseCertificate, serialToHex } from './parse-certificate.ts';
export { fromPem, fromPemAll, toPem } from './pem.ts';
export { PkiError } from './pki-error.ts';
export { isRevocationReason, REVOCATION_REASONS, type RevocationReason } from './revocation-reason.ts';
export * from './secure-link/index.ts';
export { digestForSignatureOid, type SignatureAlgorithm, type Signer, signatureOid } from './signer.ts';
