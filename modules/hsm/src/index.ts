// A payment HSM's operations behind one typed API, and its software backend.
export * from './hsm.ts';
export { HsmError, HsmVerificationError, isVerificationFailure } from './hsm-error.ts';
export { masterKeyFromEnv, masterKeyFromFile } from './master-key.ts';
export { Pkcs11Hsm, type Pkcs11HsmOptions } from './pkcs11/pkcs11-hsm.ts';
export { type RandomBytes, randomPool } from './random-pool.ts';
export { SoftwareHsm, type SoftwareHsmOptions } from './software/software-hsm.ts';
