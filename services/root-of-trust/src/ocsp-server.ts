import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ocspErrorResponse } from '@amulet/pki';
import type { CertificateAuthority } from './certificate-authority.ts';
import { readBody } from './read-body.ts';

const OCSP_REQUEST_BYTES_MAX = 8192;

function send(response: ServerResponse, status: number, body: Uint8Array): void {
  response.writeHead(status, { 'content-type': 'application/ocsp-response', 'content-length': body.length });
  response.end(body);
}

/**
 * An OCSP responder over HTTP (RFC 6960 Appendix A.1): POST with an application/ocsp-request
 * body, or GET with the base64 request URL-encoded as the last path segment.
 */
export function createOcspHandler(ca: CertificateAuthority) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    try {
      let der: Uint8Array;
      if (request.method === 'POST') {
        der = await readBody(request, OCSP_REQUEST_BYTES_MAX);
      } else if (request.method === 'GET') {
        const path = (request.url ?? '/').split('?')[0]!;
        const segment = decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
        if (segment.length === 0 || segment.length > OCSP_REQUEST_BYTES_MAX * 2) {
          send(response, 400, ocspErrorResponse('malformedRequest'));
          return;
        }
        der = new Uint8Array(Buffer.from(segment, 'base64'));
      } else {
        response.writeHead(405, { allow: 'GET, POST' });
        response.end();
        return;
      }
      send(response, 200, await ca.respondOcsp(der));
    } catch {
      if (!response.headersSent) send(response, 200, ocspErrorResponse('internalError'));
    }
  };
}

export function createOcspServer(ca: CertificateAuthority): Server {
  const handler = createOcspHandler(ca);
  return createServer((request, response) => void handler(request, response));
}
