import { readFileSync, statSync } from 'node:fs';
import type { RevocationReason } from '@amulet/pki';
import { atomicWrite } from './atomic-write.ts';
import { RootOfTrustError } from './root-of-trust-error.ts';

/** The CAs a root of trust directory holds; the root's key may be kept offline. */
export const ISSUING_CAS = ['device-ca', 'service-ca'] as const;
export type IssuingCa = (typeof ISSUING_CAS)[number];
export type CaName = 'root' | IssuingCa;

export interface IssuedRecord {
  readonly ca: IssuingCa;
  readonly profile: 'device' | 'service';
  readonly subject: string;
  readonly issuedAt: string;
  readonly notAfter: string;
  readonly certificatePem: string;
}

export interface RevocationRecord {
  readonly ca: IssuingCa;
  readonly revokedAt: string;
  readonly reason: RevocationReason;
}

/** `state.json`: what the CAs issued and revoked. Transitions below are pure; storage is separate. */
export interface CaState {
  readonly version: 1;
  readonly tenantId: string;
  readonly ocspUrl?: string;
  readonly crlUrl?: string;
  readonly crlNumbers: Readonly<Record<CaName, number>>;
  readonly issued: Readonly<Record<string, IssuedRecord>>;
  readonly revoked: Readonly<Record<string, RevocationRecord>>;
}

export function withIssued(state: CaState, serialHex: string, record: IssuedRecord): CaState {
  if (Object.hasOwn(state.issued, serialHex)) {
    throw new RootOfTrustError('ERR_SERIAL_COLLISION', 'serial number already issued');
  }
  return { ...state, issued: { ...state.issued, [serialHex]: record } };
}

export function withRevocation(
  state: CaState,
  serialHex: string,
  revokedAt: string,
  reason: RevocationReason,
): CaState {
  const issued = state.issued[serialHex];
  if (issued === undefined)
    throw new RootOfTrustError(
      'ERR_UNKNOWN_SERIAL',
      'no certificate with this serial number was issued here',
    );
  if (Object.hasOwn(state.revoked, serialHex))
    throw new RootOfTrustError('ERR_ALREADY_REVOKED', 'certificate is already revoked');
  return { ...state, revoked: { ...state.revoked, [serialHex]: { ca: issued.ca, revokedAt, reason } } };
}

export function withNextCrlNumber(state: CaState, ca: CaName): CaState {
  return { ...state, crlNumbers: { ...state.crlNumbers, [ca]: state.crlNumbers[ca] + 1 } };
}

export function readState(path: string): CaState {
  let state: CaState;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as CaState;
  } catch {
    throw new RootOfTrustError('ERR_CA_STATE', 'state.json is missing or not JSON; run rot init first');
  }
  if (state.version !== 1) throw new RootOfTrustError('ERR_CA_STATE', 'state.json has an unknown version');
  return state;
}

export function writeState(path: string, state: CaState): void {
  atomicWrite(path, `${JSON.stringify(state, null, 2)}\n`);
}

/** Modification time, to reload the state another process changed (e.g. a revocation). */
export function stateVersionTag(path: string): string {
  const stat = statSync(path);
  return `${stat.mtimeMs}:${stat.size}`;
}
