import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { fromPem, SERVICE_ROLES, type ServiceRole, toPem } from '@amulet/pki';
import type { CertificateAuthority, EnrollmentRequest } from './certificate-authority.ts';
import { problemCodeFor, sendProblem } from './problem-details.ts';
import { readBody } from './read-body.ts';
import { RootOfTrustError } from './root-of-trust-error.ts';

/** The bearer secrets allowed to enroll: the factory enrolls devices, an operator also services. */
export interface EnrollmentCredentials {
  readonly factory?: string;
  readonly operator?: string;
}

const ENROLL_BODY_BYTES_MAX = 16_384;

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Which credential a request presents; compared in constant time over fixed-length digests. */
function roleOf(
  request: IncomingMessage,
  credentials: EnrollmentCredentials,
): 'factory' | 'operator' | undefined {
  const header = request.headers.authorization ?? '';
  const match = /^Bearer (\S+)$/.exec(header);
  if (match === null) return undefined;
  const presented = digest(match[1]!);
  let role: 'factory' | 'operator' | undefined;
  for (const name of ['factory', 'operator'] as const) {
    const secret = credentials[name];
    if (secret !== undefined && secret.length > 0 && timingSafeEqual(presented, digest(secret))) role = name;
  }
  return role;
}

function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new RootOfTrustError('ERR_BAD_REQUEST', `${name} must be a string`);
  return value;
}

function stringList(body: Record<string, unknown>, name: string): string[] {
  const value = body[name] ?? [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string') || value.length > 16) {
    throw new RootOfTrustError('ERR_BAD_REQUEST', `${name} must be a list of strings`);
  }
  return value as string[];
}

/** Reads `{ profile, csr (PEM), ...attributes }` into an enrollment request. */
export function parseEnrollmentBody(bytes: Uint8Array): EnrollmentRequest {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new RootOfTrustError('ERR_BAD_REQUEST', 'body must be JSON');
  }
  if (typeof body !== 'object' || body === null)
    throw new RootOfTrustError('ERR_BAD_REQUEST', 'body must be a JSON object');
  const fields = body as Record<string, unknown>;
  const csrPem = optionalString(fields, 'csr');
  if (csrPem === undefined) throw new RootOfTrustError('ERR_BAD_REQUEST', 'csr is required');
  const csr = fromPem(csrPem, 'CERTIFICATE REQUEST');
  if (fields.profile === 'device') {
    return {
      profile: 'device',
      csr,
      serialNumber: optionalString(fields, 'serialNumber'),
      oemId: optionalString(fields, 'oemId'),
      model: optionalString(fields, 'model'),
      seType: optionalString(fields, 'seType'),
    };
  }
  if (fields.profile === 'service') {
    const roles = stringList(fields, 'roles');
    if (!roles.every((role) => (SERVICE_ROLES as readonly string[]).includes(role))) {
      throw new RootOfTrustError('ERR_BAD_REQUEST', `roles must be among ${SERVICE_ROLES.join(', ')}`);
    }
    return {
      profile: 'service',
      csr,
      commonName: optionalString(fields, 'commonName'),
      roles: roles as ServiceRole[],
      dnsNames: stringList(fields, 'dnsNames'),
    };
  }
  throw new RootOfTrustError('ERR_BAD_REQUEST', 'profile must be device or service');
}

/**
 * POST /enroll: issues a certificate for a CSR made by the subject's own key. Answers 201 with
 * application/pem-certificate-chain (the certificate, then its CA), or an RFC 9457 problem.
 */
export function createEnrollmentHandler(ca: CertificateAuthority, credentials: EnrollmentCredentials) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    try {
      if ((request.url ?? '').split('?')[0] !== '/enroll') return sendProblem(response, 'ERR_NOT_FOUND');
      if (request.method !== 'POST') return sendProblem(response, 'ERR_METHOD', { allow: 'POST' });
      const role = roleOf(request, credentials);
      if (role === undefined)
        return sendProblem(response, 'ERR_UNAUTHORIZED', { 'www-authenticate': 'Bearer' });
      const enrollment = parseEnrollmentBody(await readBody(request, ENROLL_BODY_BYTES_MAX));
      if (enrollment.profile === 'service' && role !== 'operator')
        return sendProblem(response, 'ERR_FORBIDDEN');
      const issued = await ca.issue(enrollment);
      const caName = enrollment.profile === 'device' ? 'device-ca' : 'service-ca';
      const chain = issued.pem + toPem('CERTIFICATE', ca.certificate(caName).der);
      response.writeHead(201, {
        'content-type': 'application/pem-certificate-chain',
        'x-amulet-serial': issued.serialHex,
      });
      response.end(chain);
    } catch (error) {
      if (!response.headersSent) sendProblem(response, problemCodeFor(error));
    }
  };
}

export function createEnrollmentServer(ca: CertificateAuthority, credentials: EnrollmentCredentials): Server {
  const handler = createEnrollmentHandler(ca, credentials);
  return createServer((request, response) => void handler(request, response));
}
