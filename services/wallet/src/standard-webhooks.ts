import { Webhook } from 'standardwebhooks';
import { secretsEqual } from './secrets.ts';

/** Standard Webhooks: signatures older or newer than this are refused (replay window). */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;
const HEADER_BYTES_MAX = 1024;

/**
 * Verifies a webhook per Standard Webhooks (standardwebhooks.com, "Verifying webhooks"): the
 * signature is HMAC-SHA256 over `id.timestamp.body` with the shared secret, sent as one or more
 * space-separated `v1,<base64>`. The npm `standardwebhooks` package computes the expected
 * signature; the timestamp is checked here against the injected clock (the package reads the
 * system clock), and the comparison is constant time. Returns false for anything wrong.
 */
export function verifyStandardWebhook(
  secret: string,
  rawBody: string,
  headers: { id: unknown; timestamp: unknown; signature: unknown },
  nowMs: number,
): boolean {
  const { id, timestamp, signature } = headers;
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signature !== 'string') return false;
  if (
    id.length === 0 ||
    id.length > 256 ||
    signature.length > HEADER_BYTES_MAX ||
    !/^\d{1,12}$/.test(timestamp)
  )
    return false;
  const seconds = Number(timestamp);
  if (Math.abs(nowMs / 1000 - seconds) > WEBHOOK_TOLERANCE_SECONDS) return false;
  const expected = new Webhook(secret).sign(id, new Date(seconds * 1000), rawBody).split(',')[1] ?? '';
  let match = false;
  for (const versioned of signature.split(' ')) {
    const [version, value] = versioned.split(',');
    if (version === 'v1' && value !== undefined && secretsEqual(value, expected)) match = true;
  }
  return match;
}

/** Signs a webhook the way a sender does (for the TSP simulator and tests). */
export function signStandardWebhook(
  secret: string,
  id: string,
  timestampSeconds: number,
  rawBody: string,
): string {
  return new Webhook(secret).sign(id, new Date(timestampSeconds * 1000), rawBody);
}
