export { caPaths } from './ca-paths.ts';
export {
  type CaName,
  type CaState,
  crlEntry,
  ISSUING_CAS,
  type IssuedRecord,
  type IssuingCa,
  issuedEntry,
  type JournalEntry,
  type RevocationRecord,
  readState,
  revocationEntry,
} from './ca-state.ts';
export {
  CertificateAuthority,
  type CertificateAuthorityOptions,
  type EnrollmentRequest,
  type IssuedCertificate,
  openKeystore,
} from './certificate-authority.ts';
export {
  createEnrollmentHandler,
  createEnrollmentServer,
  type EnrollmentCredentials,
  parseEnrollmentBody,
} from './enrollment-server.ts';
export { HsmKeystore } from './hsm-keystore.ts';
export { type KeyCeremonyOptions, runKeyCeremony } from './key-ceremony.ts';
export type { KeyCurve, Keystore } from './keystore.ts';
export {
  MASTER_KEY_ENV,
  MASTER_KEY_FILE,
  type MasterKeySource,
  resolveMasterKey,
  writeDemoMasterKey,
} from './master-key.ts';
export { createOcspHandler, createOcspServer } from './ocsp-server.ts';
export { PROBLEM_TYPES, type ProblemCode, problemCodeFor, sendProblem } from './problem-details.ts';
export { RootOfTrustError } from './root-of-trust-error.ts';
export { randomSerialNumber } from './serial-number.ts';
export { SoftwareKeystore, SoftwareSigner } from './software-keystore.ts';
