import { WalletError } from './wallet-error.ts';

/**
 * What the wallet asks of the token service (TSP), over HTTP. The wallet never imports the token
 * service (DESIGN.md dependency rule): this interface is the contract, shaped after the token
 * service's TokenService API (tokenize, changeStatus, search by device, provisioning relay).
 * Everything the wallet sends or receives here is opaque to it: the card data is a JWE it cannot
 * decrypt, the provisioning APDUs are bytes it does not parse, and the answers carry a token id,
 * a last four and a status, never a PAN or a DPAN.
 */
export type TspTokenStatus = 'inactive' | 'active' | 'suspended' | 'deleted';
export type TspActor = 'cardholder' | 'wallet' | 'issuer' | 'tsp';
export type TspLifecycleAction = 'suspend' | 'resume' | 'delete';

export interface TspToken {
  readonly tokenId: string;
  readonly status: TspTokenStatus;
  readonly lastFour: string;
  readonly network?: string;
  readonly cardArtUrl?: string;
  readonly issuerName?: string;
}

export interface TspTokenizeRequest {
  readonly requestorTrid: string;
  /** Compact JWE (RFC 7516) encrypted by the companion to the TSP's key. */
  readonly encryptedCard: string;
  /** The device certificate chain (base64 DER, leaf first), attested by the wallet. */
  readonly deviceCertificateChain: readonly string[];
  readonly label?: string;
}

export type TspTokenizeResult =
  | { readonly status: 'provisioning'; readonly token: TspToken }
  | { readonly status: 'step-up'; readonly token: TspToken }
  | { readonly status: 'declined'; readonly reason: string };

export type TspStatusOutcome =
  | { readonly tokenId: string; readonly ok: true; readonly status: TspTokenStatus }
  | { readonly tokenId: string; readonly ok: false; readonly problem: string };

export interface TspProvisioningStep {
  /** Command APDUs for the secure element, opaque to the wallet. */
  readonly commands: readonly Uint8Array[];
  readonly done: boolean;
}

export interface TspClient {
  tokenize(request: TspTokenizeRequest, idempotencyKey: string): Promise<TspTokenizeResult>;
  /** OTP step-up (a yellow ID&V decision). */
  verifyOtp(requestorTrid: string, tokenId: string, otp: string, idempotencyKey: string): Promise<TspToken>;
  getToken(requestorTrid: string, tokenId: string): Promise<TspToken>;
  /** Card metadata the issuer gave the TSP (art, issuer name); empty when it has none. */
  cardMetadata(requestorTrid: string, tokenId: string): Promise<{ artUrl?: string; issuerName?: string }>;
  /** Every token the requestor holds for a device (its certificate's SHA-256 fingerprint). */
  tokensOfDevice(requestorTrid: string, deviceFingerprint: string): Promise<TspToken[]>;
  /** Suspends, resumes or deletes many tokens in one call, committed at the TSP before it answers. */
  changeStatus(
    request: {
      readonly requestorTrid: string;
      readonly tokenIds: readonly string[];
      readonly action: TspLifecycleAction;
      readonly actor: TspActor;
      readonly reason: string;
    },
    idempotencyKey: string,
  ): Promise<TspStatusOutcome[]>;
  /**
   * The provisioning APDU relay: with no response, starts provisioning and gets the loader's first
   * command; with responses, relays each in order and gets the next command, or the end.
   */
  provisioning(
    requestorTrid: string,
    tokenId: string,
    responses: readonly Uint8Array[],
    idempotencyKey: string,
  ): Promise<TspProvisioningStep>;
  /** The TSP's public JWE key (JWK) that the companion encrypts card data to. */
  encryptionKey(): Promise<Record<string, string>>;
}

export interface HttpTspClientOptions {
  readonly baseUrl: string;
  /** The wallet's access credential at the TSP (bearer). */
  readonly credential?: string;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

const RESPONSE_BYTES_MAX = 1 << 20;

/**
 * The TspClient over HTTP (fetch), on the token service's contract (services/token-service,
 * api-schemas.ts). All JSON; the requestor in the `amulet-token-requestor` header; the IETF
 * Idempotency-Key on every POST:
 * - POST /v1/tokens                               tokenize `{ encryptedCard, deviceCertificateChain, label? }`
 * - POST /v1/tokens/{tokenId}/otp                 OTP step-up `{ otp }`
 * - GET  /v1/tokens/{tokenId}                     one token
 * - GET  /v1/tokens/{tokenId}/metadata            card art and issuer name
 * - GET  /v1/tokens?deviceId=                     the requestor's tokens of a device
 * - POST /v1/tokens/status                        `{ tokenIds, action, actor, reason }` -> `{ results }`
 * - POST /v1/tokens/{tokenId}/provisioning        start: `{ state, command? (base64) }`
 * - POST /v1/tokens/{tokenId}/provisioning/relay  `{ response (base64) }` -> the next step
 * - GET  /v1/jwe-key                              the JWE public key (JWK)
 * Every failure is ERR_TSP_UNAVAILABLE (a 4xx about the OTP is ERR_OTP); the TSP's answer is never echoed.
 */
export function httpTspClient(options: HttpTspClientOptions): TspClient {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const base = options.baseUrl.replace(/\/$/, '');

  async function call(
    method: 'GET' | 'POST',
    path: string,
    requestorTrid: string | undefined,
    body?: unknown,
    idempotencyKey?: string,
  ): Promise<{ status: number; json: unknown }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.credential !== undefined) headers.authorization = `Bearer ${options.credential}`;
    if (requestorTrid !== undefined) headers['amulet-token-requestor'] = requestorTrid;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (cause) {
      throw new WalletError('ERR_TSP_UNAVAILABLE', undefined, { cause, reason: 'unreachable' });
    }
    const text = await response.text();
    if (text.length > RESPONSE_BYTES_MAX)
      throw new WalletError('ERR_TSP_UNAVAILABLE', undefined, { reason: 'too-large' });
    let json: unknown;
    try {
      json = text.length === 0 ? undefined : JSON.parse(text);
    } catch {
      throw new WalletError('ERR_TSP_UNAVAILABLE', undefined, { reason: 'not-json' });
    }
    return { status: response.status, json };
  }

  const fail = (reason: string): never => {
    throw new WalletError('ERR_TSP_UNAVAILABLE', undefined, { reason });
  };
  const ok = (r: { status: number; json: unknown }): unknown =>
    r.status >= 200 && r.status < 300 ? r.json : fail(`status-${r.status}`);
  const seg = encodeURIComponent;

  return {
    async tokenize(request, idempotencyKey) {
      const body = {
        encryptedCard: request.encryptedCard,
        deviceCertificateChain: request.deviceCertificateChain,
        ...(request.label === undefined ? {} : { label: request.label }),
      };
      const r = await call('POST', '/v1/tokens', request.requestorTrid, body, idempotencyKey);
      const json = r.json as { status?: unknown; reason?: unknown; token?: unknown } | undefined;
      if (r.status < 300 && json?.status === 'declined')
        return {
          status: 'declined',
          reason: typeof json.reason === 'string' ? json.reason.slice(0, 64) : 'declined',
        };
      const answer = ok(r) as { status?: unknown; token?: unknown };
      if (answer?.status !== 'provisioning' && answer?.status !== 'step-up') fail('shape');
      return { status: answer.status as 'provisioning' | 'step-up', token: parseToken(answer.token) };
    },
    async verifyOtp(requestorTrid, tokenId, otp, idempotencyKey) {
      const r = await call('POST', `/v1/tokens/${seg(tokenId)}/otp`, requestorTrid, { otp }, idempotencyKey);
      if (r.status === 400 || r.status === 422) throw new WalletError('ERR_OTP');
      const answer = ok(r) as { status?: unknown; token?: unknown };
      if (answer?.status === 'declined') throw new WalletError('ERR_OTP');
      return parseToken(answer?.token ?? answer);
    },
    async getToken(requestorTrid, tokenId) {
      return parseToken(ok(await call('GET', `/v1/tokens/${seg(tokenId)}`, requestorTrid)));
    },
    async cardMetadata(requestorTrid, tokenId) {
      const r = await call('GET', `/v1/tokens/${seg(tokenId)}/metadata`, requestorTrid);
      if (r.status === 404) return {};
      const m = ok(r) as { art?: unknown; issuerName?: unknown } | undefined;
      return {
        ...(typeof m?.art === 'string' && /^https:\/\/[^\s]{1,500}$/.test(m.art) ? { artUrl: m.art } : {}),
        ...(typeof m?.issuerName === 'string' && m.issuerName.length <= 200
          ? { issuerName: m.issuerName }
          : {}),
      };
    },
    async tokensOfDevice(requestorTrid, deviceFingerprint) {
      const body = ok(await call('GET', `/v1/tokens?deviceId=${seg(deviceFingerprint)}`, requestorTrid)) as {
        tokens?: unknown;
      };
      if (!Array.isArray(body?.tokens)) fail('shape');
      return (body.tokens as unknown[]).map(parseToken);
    },
    async changeStatus(request, idempotencyKey) {
      const { requestorTrid, ...body } = request;
      const answer = ok(await call('POST', '/v1/tokens/status', requestorTrid, body, idempotencyKey)) as {
        results?: unknown;
      };
      if (!Array.isArray(answer?.results)) fail('shape');
      return (answer.results as TspStatusOutcome[]).map((o) => {
        if (typeof o?.tokenId !== 'string' || typeof o.ok !== 'boolean') fail('shape');
        return o;
      });
    },
    async provisioning(requestorTrid, tokenId, responses, idempotencyKey) {
      const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
      let step: unknown;
      if (responses.length === 0)
        step = ok(
          await call('POST', `/v1/tokens/${seg(tokenId)}/provisioning`, requestorTrid, {}, idempotencyKey),
        );
      for (let i = 0; i < responses.length; i++) {
        step = ok(
          await call(
            'POST',
            `/v1/tokens/${seg(tokenId)}/provisioning/relay`,
            requestorTrid,
            { response: base64(responses[i]!) },
            `${idempotencyKey}-${i}`,
          ),
        );
        if ((step as { state?: unknown })?.state !== 'command' && i < responses.length - 1) fail('sequence');
      }
      const s = step as { state?: unknown; command?: unknown };
      if (s?.state === 'confirmed') return { commands: [], done: true };
      if (s?.state === 'failed')
        throw new WalletError('ERR_TSP_UNAVAILABLE', undefined, { reason: 'provisioning-failed' });
      if (
        s?.state !== 'command' ||
        typeof s.command !== 'string' ||
        !/^[A-Za-z0-9+/]*={0,2}$/.test(s.command)
      )
        fail('shape');
      return { commands: [new Uint8Array(Buffer.from(s.command as string, 'base64'))], done: false };
    },
    async encryptionKey() {
      const body = ok(await call('GET', '/v1/jwe-key', undefined)) as Record<string, unknown>;
      const jwk = (body?.jwk ?? body) as Record<string, unknown>;
      if (jwk?.kty !== 'EC' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') fail('shape');
      return Object.fromEntries(Object.entries(jwk).filter(([, v]) => typeof v === 'string')) as Record<
        string,
        string
      >;
    },
  };

  function parseToken(value: unknown): TspToken {
    const t = value as Record<string, unknown> | undefined;
    const statuses = ['inactive', 'active', 'suspended', 'deleted'];
    if (
      typeof t?.tokenId !== 'string' ||
      typeof t.status !== 'string' ||
      !statuses.includes(t.status) ||
      typeof t.lastFour !== 'string' ||
      !/^\d{4}$/.test(t.lastFour)
    )
      fail('shape');
    const token = t as Record<string, unknown>;
    return {
      tokenId: token.tokenId as string,
      status: token.status as TspTokenStatus,
      lastFour: token.lastFour as string,
      ...(typeof token.network === 'string' ? { network: token.network } : {}),
      ...(typeof token.cardArtUrl === 'string' ? { cardArtUrl: token.cardArtUrl } : {}),
      ...(typeof token.issuerName === 'string' ? { issuerName: token.issuerName } : {}),
    };
  }
}
