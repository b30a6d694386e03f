import type { IncomingMessage } from 'node:http';
import { RootOfTrustError } from './root-of-trust-error.ts';

/** Reads a request body, refusing more than `limitBytes` (ERR_TOO_LARGE). */
export async function readBody(request: IncomingMessage, limitBytes: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of request) {
    length += (chunk as Buffer).length;
    if (length > limitBytes) throw new RootOfTrustError('ERR_TOO_LARGE', 'request body too large');
    chunks.push(chunk as Buffer);
  }
  return new Uint8Array(Buffer.concat(chunks));
}
