import type { ServerResponse } from 'node:http';
import { isAmuletError } from '@amulet/bytes';

/**
 * Every error code the HTTP APIs answer with, its status and title. docs/root-of-trust.md lists
 * the same table, and a test checks that they agree.
 */
export const PROBLEM_TYPES = {
  ERR_BAD_REQUEST: { status: 400, title: 'The request body is not what this endpoint takes' },
  ERR_PKI_DER: { status: 400, title: 'The CSR is not valid DER' },
  ERR_PKI_PEM: { status: 400, title: 'The CSR is not a PEM CERTIFICATE REQUEST' },
  ERR_PKI_ALGORITHM: { status: 400, title: 'The key or signature algorithm is not ECDSA P-256 or P-384' },
  ERR_PKI_CSR_SIGNATURE: { status: 400, title: 'The CSR signature does not verify' },
  ERR_PKI_ATTRIBUTE: { status: 400, title: 'A name or device attribute is not allowed' },
  ERR_ENROLL_ATTRIBUTE: { status: 400, title: 'A required certificate attribute is missing' },
  ERR_UNAUTHORIZED: { status: 401, title: 'A valid factory or operator credential is required' },
  ERR_FORBIDDEN: { status: 403, title: 'This credential may not enroll this profile' },
  ERR_NOT_FOUND: { status: 404, title: 'No such endpoint' },
  ERR_METHOD: { status: 405, title: 'Method not allowed on this endpoint' },
  ERR_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  ERR_SERIAL_COLLISION: { status: 500, title: 'A serial number collided; retry' },
  ERR_INTERNAL: { status: 500, title: 'Internal error' },
} as const;

export type ProblemCode = keyof typeof PROBLEM_TYPES;

/** Writes an RFC 9457 problem details document. Titles are fixed: no input value is echoed. */
export function sendProblem(
  response: ServerResponse,
  code: ProblemCode,
  headers: Record<string, string> = {},
): void {
  const { status, title } = PROBLEM_TYPES[code];
  const body = JSON.stringify({ type: `urn:amulet:problem:${code}`, title, status, code });
  response.writeHead(status, { 'content-type': 'application/problem+json', ...headers });
  response.end(body);
}

/** The problem code for a thrown error: our codes when listed, ERR_INTERNAL otherwise. */
export function problemCodeFor(error: unknown): ProblemCode {
  if (isAmuletError(error) && Object.hasOwn(PROBLEM_TYPES, error.code)) return error.code as ProblemCode;
  return 'ERR_INTERNAL';
}
