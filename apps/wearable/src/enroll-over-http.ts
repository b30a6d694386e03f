import { fromPemAll, toPem } from '@amulet/pki';
import { WearableError } from './wearable-error.ts';

/** What the factory tells the device CA about the device (docs/root-of-trust.md, "Enrollment"). */
export interface FactoryEnrollment {
  readonly url: string;
  /** The factory's bearer secret (from the environment, never from arguments). */
  readonly credential: string;
  readonly serialNumber: string;
  readonly oemId?: string;
  readonly model?: string;
  readonly seType?: 'embedded' | 'integrated' | 'removable' | 'software';
  readonly timeoutMs?: number;
}

const RESPONSE_BYTES_MAX = 65_536;

/**
 * The factory's side of `POST /enroll` (docs/root-of-trust.md): sends the SE's CSR as PEM with
 * the device fields and returns the chain the device CA answers (device certificate first). A
 * refusal is `ERR_WEARABLE_ENROLL` naming the HTTP status and problem code, never the credential.
 */
export function enrollOverHttp(options: FactoryEnrollment): (csr: Uint8Array) => Promise<Uint8Array[]> {
  return async (csr) => {
    const body = JSON.stringify({
      profile: 'device',
      csr: toPem('CERTIFICATE REQUEST', csr),
      serialNumber: options.serialNumber,
      ...(options.oemId === undefined ? {} : { oemId: options.oemId }),
      ...(options.model === undefined ? {} : { model: options.model }),
      ...(options.seType === undefined ? {} : { seType: options.seType }),
    });
    let response: Response;
    try {
      response = await fetch(options.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.credential}`, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch {
      throw new WearableError('ERR_WEARABLE_ENROLL', 'the enrollment server cannot be reached');
    }
    const text = await response.text();
    if (text.length > RESPONSE_BYTES_MAX)
      throw new WearableError('ERR_WEARABLE_ENROLL', 'the enrollment answer is too long');
    if (response.status !== 201) {
      let code = 'unknown';
      try {
        const problem = JSON.parse(text) as { code?: unknown };
        if (typeof problem.code === 'string' && /^ERR_[A-Z0-9_]{1,40}$/.test(problem.code))
          code = problem.code;
      } catch {
        // not a problem document: keep "unknown"
      }
      throw new WearableError('ERR_WEARABLE_ENROLL', `enrollment refused: HTTP ${response.status} ${code}`);
    }
    const chain = fromPemAll(text, 'CERTIFICATE');
    if (chain.length === 0)
      throw new WearableError('ERR_WEARABLE_ENROLL', 'the enrollment answer has no certificate');
    return chain;
  };
}
