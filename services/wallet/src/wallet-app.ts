import { type AttestationVerifier, createAttestationVerifier, fromPem } from '@amulet/pki';
import swagger from '@fastify/swagger';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { EventHub } from './event-hub.ts';
import { registerCardRoutes } from './routes/card-routes.ts';
import { registerDeviceRoutes } from './routes/device-routes.ts';
import { registerTenantRoutes } from './routes/tenant-routes.ts';
import { registerUserRoutes } from './routes/user-routes.ts';
import { registerWebhookRoutes } from './routes/webhook-routes.ts';
import { newId, secretsEqual, sha256Hex } from './secrets.ts';
import { SessionCache } from './session-cache.ts';
import type { Card, Device, Tenant } from './types.ts';
import {
  cardView,
  deviceView,
  type Principal,
  type WalletContext,
  type WalletOptions,
  type WalletRouteConfig,
} from './wallet-context.ts';
import { problem, WALLET_PROBLEMS, WalletError, type WalletProblemCode } from './wallet-error.ts';
import type { InlineIdempotency } from './wallet-store.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
    idempotency: { scope: string; key: string } | undefined;
    /** Set on `idempotency: 'inline'` routes: the handler claims and completes the key in its own transaction. */
    inlineIdempotency: InlineIdempotency | undefined;
  }
  interface FastifyContextConfig {
    auth?: WalletRouteConfig['auth'];
    idempotency?: boolean | 'inline';
  }
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function sendProblem(
  reply: FastifyReply,
  code: WalletProblemCode,
  extra: Parameters<typeof problem>[1] = {},
) {
  return reply.code(WALLET_PROBLEMS[code].status).type('application/problem+json').send(problem(code, extra));
}

/** Maps a thrown error to a problem code; never echoes the error's message to the client. */
function problemOf(error: FastifyError | WalletError | Error): {
  code: WalletProblemCode;
  reason?: string;
  errors?: { path: string; rule: string }[];
} {
  if (error instanceof WalletError)
    return {
      code: error.code as WalletProblemCode,
      ...(error.reason === undefined ? {} : { reason: error.reason }),
    };
  const f = error as FastifyError;
  if (f.validation !== undefined)
    return {
      code: 'ERR_VALIDATION',
      errors: f.validation.map((v) => ({
        path: `${f.validationContext ?? 'body'}${v.instancePath || ''}`,
        rule: v.keyword,
      })),
    };
  switch (f.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'ERR_TOO_LARGE' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { code: 'ERR_MEDIA_TYPE' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { code: 'ERR_BAD_JSON' };
  }
  if (f.statusCode === 400) return { code: 'ERR_BAD_JSON' };
  if (f.statusCode === 413) return { code: 'ERR_TOO_LARGE' };
  if (f.statusCode === 415) return { code: 'ERR_MEDIA_TYPE' };
  return { code: 'ERR_INTERNAL' };
}

/**
 * Builds the wallet's HTTP API (Fastify 5, TypeBox schemas, OpenAPI 3.1 at /openapi.json). Call
 * `ready()` (or `listen`) before use; `close()` closes the push streams, not the store.
 */
export async function buildWalletApp(options: WalletOptions): Promise<FastifyInstance> {
  const requestIdPrefix = `${newId(options.random, 'req')}.`;
  let requestCounter = 0;
  const sessions = new SessionCache(options.sessionCacheMs ?? 5_000);
  const app = Fastify({
    bodyLimit: options.bodyLimitBytes ?? 16 * 1024,
    logger:
      options.logStream === undefined
        ? false
        : {
            level: 'info',
            stream: options.logStream,
            redact: ['req.headers.authorization', 'req.headers.cookie'],
            // ISO time from the injected clock: replayable, and no 13-digit numbers in the logs.
            timestamp: () => `,"time":"${options.now().toISOString()}"`,
            base: null,
          },
    // One line per request, written below: method, route pattern (no ids), status, whole milliseconds.
    logController: new Fastify.LogController({ disableRequestLogging: true }),
    // Ids come from the injected random source: one random prefix per instance and a counter, so
    // they stay unique across restarts (they seed the TSP's idempotency keys) and cost no
    // randomness per request.
    genReqId: () => `${requestIdPrefix}${(requestCounter++).toString(36)}`,
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false },
    },
    return503OnClosing: true,
  });
  const hub = new EventHub();
  const revoked = new Set((options.revokedDeviceSerials ?? []).map((s) => s.toUpperCase()));
  const verifiers = new Map<string, { pem: string; verifier: AttestationVerifier }>();

  const context: WalletContext = {
    options,
    store: options.store,
    tsp: options.tsp,
    hub,
    revoked,
    sessions,
    attestationVerifier(tenant: Tenant) {
      const cached = verifiers.get(tenant.id);
      if (cached !== undefined && cached.pem === tenant.deviceCaPem) return cached.verifier;
      // The tenant's device CA is the trust anchor: a device from any other CA is unknown-ca.
      const verifier = createAttestationVerifier({
        trustAnchors: [fromPem(tenant.deviceCaPem, 'CERTIFICATE')],
        tenantId: tenant.pkiTenantId,
      });
      verifiers.set(tenant.id, { pem: tenant.deviceCaPem, verifier });
      return verifier;
    },
    id: (prefix) => newId(options.random, prefix),
    nowMs: () => options.now().getTime(),
    pushCard(card: Card, type = 'card.updated') {
      const data = cardView(card);
      hub.publish(EventHub.userChannel(card.tenantId, card.userId), { type, data });
      hub.publish(EventHub.deviceChannel(card.tenantId, card.deviceId), { type, data });
    },
    pushDevice(device: Device, owner, type = 'device.updated') {
      const data = deviceView(device);
      hub.publish(EventHub.userChannel(owner.tenantId, owner.userId), { type, data });
      hub.publish(EventHub.deviceChannel(device.tenantId, device.id), { type, data });
    },
  };

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Amulet wallet',
        version: '1.0.0',
        description: 'The white-label wallet service (docs/wallet.md).',
      },
      components: {
        securitySchemes: {
          session: {
            type: 'http',
            scheme: 'bearer',
            description: 'A user session from POST /v1/tenants/{tenantId}/sessions',
          },
          oem: {
            type: 'http',
            scheme: 'bearer',
            description: 'The OEM back-office credential <apiKeyId>.<secret>',
          },
          operator: { type: 'http', scheme: 'bearer', description: 'The platform operator credential' },
        },
      },
    },
  });

  app.decorateRequest('principal', null as unknown as { getter: () => Principal });
  app.decorateRequest('idempotency', undefined);
  app.decorateRequest('inlineIdempotency', undefined);

  // Authentication by route configuration; unknown or expired credentials are 401.
  app.addHook('preHandler', async (request, reply) => {
    const auth = request.routeOptions.config.auth ?? 'none';
    request.principal = { kind: 'anonymous' };
    if (auth === 'none' || auth === 'webhook') return;
    const header = request.headers.authorization;
    const bearer = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined;
    const principal = bearer === undefined ? undefined : await authenticate(auth, bearer);
    if (principal === undefined) {
      reply.header('www-authenticate', 'Bearer');
      return sendProblem(reply, 'ERR_UNAUTHORIZED');
    }
    request.principal = principal;
  });

  async function authenticate(
    auth: WalletRouteConfig['auth'],
    bearer: string,
  ): Promise<Principal | undefined> {
    if (bearer.length > 512) return undefined;
    if (auth === 'operator')
      return secretsEqual(bearer, options.operatorCredential) ? { kind: 'operator' } : undefined;
    if (auth === 'oem') {
      const dot = bearer.indexOf('.');
      if (dot < 1) return undefined;
      const tenant = await options.store.getTenantByApiKey(bearer.slice(0, dot));
      if (tenant === undefined || !secretsEqual(sha256Hex(bearer.slice(dot + 1)), tenant.apiKeyHash))
        return undefined;
      return { kind: 'oem', tenantId: tenant.id };
    }
    const sessionHash = sha256Hex(bearer);
    const nowMs = options.now().getTime();
    let session = sessions.get(sessionHash, nowMs);
    if (session === undefined) {
      session = await options.store.getSession(sessionHash);
      if (session !== undefined) sessions.set(sessionHash, session, nowMs);
    }
    if (session === undefined || session.expiresAt <= new Date(nowMs).toISOString()) return undefined;
    return { kind: 'user', tenantId: session.tenantId, userId: session.userId, sessionHash };
  }

  // The IETF Idempotency-Key header with Stripe's semantics on every POST that takes one: the same
  // key and body replay the stored answer, the same key with another body is refused, a key still
  // running is refused; 5xx answers are not stored, so a retry runs again.
  async function claimIdempotencyKey(request: FastifyRequest, reply: FastifyReply) {
    if (reply.sent) return;
    if (request.routeOptions.config.idempotency === false) return;
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key))
      return sendProblem(reply, 'ERR_IDEMPOTENCY_KEY_MISSING');
    const p = request.principal;
    const who = p.kind === 'user' ? `user:${p.userId}` : p.kind === 'oem' ? `oem:${p.tenantId}` : p.kind;
    const scope = `${who}`;
    // One string, hashed in one shot: the URL is Latin-1 from the HTTP parser and JSON.stringify
    // escapes lone surrogates, so this is the digest of the same bytes as hashing the parts in turn.
    const hash = sha256Hex(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`);
    const inline = request.routeOptions.config.idempotency === 'inline';
    const begun = inline
      ? ((await options.store.peekIdempotent(scope, key, hash)) ?? { kind: 'started' as const })
      : await options.store.beginIdempotent(scope, key, hash);
    if (begun.kind === 'conflict') return sendProblem(reply, 'ERR_IDEMPOTENCY_MISMATCH');
    if (begun.kind === 'in-progress') return sendProblem(reply, 'ERR_IDEMPOTENCY_IN_PROGRESS');
    if (begun.kind === 'replay') {
      const type = begun.statusCode >= 400 ? 'application/problem+json' : 'application/json; charset=utf-8';
      return reply
        .code(begun.statusCode)
        .header('idempotent-replayed', 'true')
        .type(type)
        .send(begun.response);
    }
    if (inline) request.inlineIdempotency = { scope, key, requestHash: hash };
    else request.idempotency = { scope, key };
  }

  async function storeIdempotentAnswer(request: FastifyRequest, reply: FastifyReply, payload: unknown) {
    const idem = request.idempotency;
    if (idem === undefined) return payload;
    request.idempotency = undefined;
    const body = payload === undefined || payload === null ? '' : payload;
    if (reply.statusCode >= 500 || typeof body !== 'string')
      await options.store.abandonIdempotent(idem.scope, idem.key);
    else await options.store.completeIdempotent(idem.scope, idem.key, reply.statusCode, body);
    return payload;
  }

  // Only POST routes carry the hooks (route-level hooks run after the global authentication):
  // reads pay for none of it.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.includes('POST') || route.config?.idempotency === false) return;
    const asArray = <T>(hook: T | T[] | undefined): T[] =>
      hook === undefined ? [] : Array.isArray(hook) ? hook : [hook];
    route.preHandler = [...asArray(route.preHandler), claimIdempotencyKey] as NonNullable<
      typeof route.preHandler
    >;
    route.onSend = [...asArray(route.onSend), storeIdempotentAnswer] as NonNullable<typeof route.onSend>;
  });

  if (options.logStream !== undefined)
    app.addHook('onResponse', async (request, reply) => {
      request.log.info(
        {
          method: request.method,
          route: request.routeOptions.url ?? 'unknown',
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime),
        },
        'request',
      );
    });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { code, ...extra } = problemOf(error);
    if (code === 'ERR_INTERNAL')
      request.log.error({ errorName: error.name, errorCode: (error as FastifyError).code }, 'internal error');
    return sendProblem(reply, code, extra);
  });
  app.setNotFoundHandler((_request, reply) => sendProblem(reply, 'ERR_NOT_FOUND'));

  registerTenantRoutes(app, context);
  registerUserRoutes(app, context);
  registerDeviceRoutes(app, context);
  registerCardRoutes(app, context);
  registerWebhookRoutes(app, context);

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  // Before the server waits for its connections: the push streams would keep it open forever.
  app.addHook('preClose', async () => hub.close());
  return app;
}

export type { FastifyInstance, FastifyRequest };
export { WalletError };
