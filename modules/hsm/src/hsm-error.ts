import { AmuletError } from '@amulet/bytes';

/**
 * Thrown by the HSM operations. Messages name the operation and the rule that failed, never key
 * material, PINs or card numbers; key ids are labels chosen by the caller and may appear.
 */
export class HsmError extends AmuletError {}

/**
 * The one result of every failed verification (ARQC, MAC): the same code and the same message
 * whatever differed, so that a caller learns nothing but "no" (DESIGN.md invariant 3).
 */
export class HsmVerificationError extends HsmError {
  constructor() {
    super('ERR_HSM_VERIFICATION_FAILED', 'verification failed');
  }
}

export function isVerificationFailure(error: unknown): error is HsmVerificationError {
  return error instanceof HsmVerificationError;
}
