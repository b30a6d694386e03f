import { createHash } from 'node:crypto';
import { isAmuletError } from '@amulet/bytes';
import { StoreError } from '@amulet/store';
import swagger from '@fastify/swagger';
import type { Static, TSchema } from '@sinclair/typebox';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import {
  CardMetadata,
  Jwk,
  OtpRequest,
  PanUpdateRequest,
  PanUpdateResponse,
  Problem,
  ProvisioningStep,
  RelayRequest,
  StatusChangeRequest,
  StatusChangeResponse,
  TokenizeRequest,
  TokenizeResponse,
  TokenList,
  TokenSearchQuery,
  TokenView,
  WebhookReplayResponse,
  WebhookSubscription,
  WebhookSubscriptionRequest,
} from './api-schemas.ts';
import type { Provisioner, RelayStep } from './provisioning.ts';
import type { TokenService } from './token-service.ts';
import { TokenServiceError, type TokenServiceErrorCode, tokenServiceErrors } from './token-service-error.ts';
import type { Webhooks } from './webhooks.ts';

export interface HttpApiOptions {
  readonly service: TokenService;
  readonly webhooks: Webhooks;
  readonly provisioner: Provisioner;
  /** Fastify's logger option (pino); off by default. Request bodies are never logged. */
  readonly logger?: FastifyServerOptions['logger'];
}

/** The header that names the calling token requestor (its TRID); in production it comes from mTLS. */
export const REQUESTOR_HEADER = 'amulet-token-requestor';

function problemOf(code: TokenServiceErrorCode, detail: string | undefined, instance: string): Problem {
  const entry = tokenServiceErrors[code];
  return {
    type: `urn:amulet:problem:${code.toLowerCase().replaceAll('_', '-')}`,
    title: entry.title,
    status: entry.status,
    ...(detail === undefined ? {} : { detail }),
    code,
    instance,
  };
}

function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

function requestor(request: FastifyRequest): string {
  const value = request.headers[REQUESTOR_HEADER];
  if (typeof value !== 'string' || !/^\d{11}$/.test(value))
    throw new TokenServiceError('ERR_TSP_INPUT', `the ${REQUESTOR_HEADER} header must be an 11-digit TRID`);
  return value;
}

const problemResponses = {
  400: Problem,
  404: Problem,
  409: Problem,
  422: Problem,
  500: Problem,
  503: Problem,
};

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

function stepBody(step: RelayStep): Static<typeof ProvisioningStep> {
  if (step.state === 'command') return { state: 'command', command: b64(step.command) };
  if (step.state === 'confirmed') return { state: 'confirmed', token: step.token };
  return { state: 'failed', reason: step.reason };
}

/**
 * The token service's HTTP API on Fastify 5: TypeBox schemas (compiled once, at start), an
 * OpenAPI 3.1 document at /openapi.json, RFC 9457 problem details for every error, and an
 * Idempotency-Key on every POST with Stripe's semantics.
 */
export async function buildHttpApi(options: HttpApiOptions): Promise<FastifyInstance> {
  const { service, webhooks, provisioner } = options;
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 64 * 1024 });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Amulet token service',
        version: '1.0.0',
        description: 'Token service provider (issue 6)',
      },
      components: {
        securitySchemes: {},
      },
    },
  });
  app.addSchema(Problem);
  app.addSchema(TokenView);

  app.setErrorHandler((error, request, reply) => {
    const instance = request.url.split('?')[0] ?? '';
    const validation = (error as { validation?: unknown }).validation;
    if (validation !== undefined)
      return sendProblem(reply, problemOf('ERR_TSP_INPUT', (error as Error).message, instance));
    if (error instanceof TokenServiceError)
      return sendProblem(reply, problemOf(error.code, error.message, instance));
    if (error instanceof StoreError && error.code === 'ERR_STORE_INPUT')
      return sendProblem(reply, problemOf('ERR_TSP_INPUT', error.message, instance));
    if (error instanceof StoreError && error.code === 'ERR_STORE_NOT_FOUND')
      return sendProblem(reply, problemOf('ERR_TSP_NOT_FOUND', undefined, instance));
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500 && !isAmuletError(error))
      return sendProblem(reply, problemOf('ERR_TSP_INPUT', (error as Error).message, instance));
    request.log.error({ code: (error as { code?: string }).code }, 'internal error');
    return sendProblem(reply, problemOf('ERR_TSP_INTERNAL', undefined, instance));
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problemOf('ERR_TSP_NOT_FOUND', 'no such route', request.url.split('?')[0] ?? '')),
  );

  /**
   * Stripe's idempotency (and the IETF Idempotency-Key draft): the first use runs the work and
   * stores the response; the same key and body replay it; the same key with another body is 422;
   * while the first use runs, 409.
   */
  async function idempotent(
    request: FastifyRequest,
    reply: FastifyReply,
    work: () => Promise<{ status: number; body: unknown }>,
  ): Promise<FastifyReply> {
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(key))
      throw new TokenServiceError(
        'ERR_TSP_IDEMPOTENCY_KEY',
        'every POST needs an Idempotency-Key header (1 to 255 visible characters)',
      );
    const caller = request.headers[REQUESTOR_HEADER];
    const scope = `${request.method} ${request.routeOptions.url ?? ''} ${typeof caller === 'string' ? caller : ''}`;
    const hash = createHash('sha256')
      .update(JSON.stringify([request.params ?? {}, request.body ?? null]))
      .digest('hex');
    const run = await service.store.idempotency.run(scope, key, hash, work);
    if (run.kind === 'conflict')
      throw new TokenServiceError(
        'ERR_TSP_IDEMPOTENCY_CONFLICT',
        'this Idempotency-Key was used with another request',
      );
    if (run.kind === 'in-progress')
      throw new TokenServiceError(
        'ERR_TSP_IDEMPOTENCY_IN_PROGRESS',
        'a request with this Idempotency-Key is in progress',
      );
    const response = run.response as { status: number; body: unknown };
    if (run.kind === 'replay') reply.header('idempotent-replayed', 'true');
    return reply.code(response.status).send(response.body);
  }

  const schema = (s: {
    body?: TSchema;
    querystring?: TSchema;
    response: Record<number, TSchema>;
    summary: string;
  }) => ({
    ...s,
    response: { ...problemResponses, ...s.response },
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get(
    '/v1/jwe-key',
    { schema: schema({ summary: "The TSP's JWE public key (JWK)", response: { 200: Jwk } }) },
    async () => service.jwePublicKey(),
  );

  app.post(
    '/v1/tokens',
    {
      schema: schema({
        summary: 'Tokenize a card (JWE) for a device',
        body: TokenizeRequest,
        response: { 200: TokenizeResponse, 201: TokenizeResponse },
      }),
    },
    async (request, reply) => {
      const trid = requestor(request);
      const body = request.body as TokenizeRequest;
      return idempotent(request, reply, async () => {
        const outcome = await service.tokenize({
          requestorTrid: trid,
          encryptedCard: body.encryptedCard,
          deviceCertificateChain: body.deviceCertificateChain.map(
            (c) => new Uint8Array(Buffer.from(c, 'base64')),
          ),
          ...(body.label === undefined ? {} : { label: body.label }),
        });
        return { status: outcome.status === 'declined' ? 200 : 201, body: outcome };
      });
    },
  );

  app.post(
    '/v1/tokens/:tokenId/otp',
    {
      schema: schema({
        summary: 'Step-up: the OTP the cardholder typed',
        body: OtpRequest,
        response: { 200: TokenizeResponse },
      }),
    },
    async (request, reply) => {
      const trid = requestor(request);
      const { tokenId } = request.params as { tokenId: string };
      const { otp } = request.body as { otp: string };
      return idempotent(request, reply, async () => ({
        status: 200,
        body: await service.activateWithOtp({ tokenId, requestorTrid: trid, otp }),
      }));
    },
  );

  app.get(
    '/v1/tokens/:tokenId',
    { schema: schema({ summary: 'One token', response: { 200: TokenView } }) },
    async (request) => service.getToken((request.params as { tokenId: string }).tokenId, requestor(request)),
  );

  app.get(
    '/v1/tokens',
    {
      schema: schema({
        summary: "Search the requestor's tokens by device or PAR",
        querystring: TokenSearchQuery,
        response: { 200: TokenList },
      }),
    },
    async (request) => {
      const query = request.query as { deviceId?: string; par?: string };
      const tokens = await service.search({ requestorTrid: requestor(request), ...query });
      return { tokens };
    },
  );

  app.post(
    '/v1/tokens/status',
    {
      schema: schema({
        summary: 'Suspend, resume or delete many tokens',
        body: StatusChangeRequest,
        response: { 200: StatusChangeResponse },
      }),
    },
    async (request, reply) => {
      const trid = requestor(request);
      const body = request.body as StatusChangeRequest;
      return idempotent(request, reply, async () => ({
        status: 200,
        body: { results: await service.changeStatus({ ...body, requestorTrid: trid }) },
      }));
    },
  );

  app.post(
    '/v1/issuer/pan-updates',
    {
      schema: schema({
        summary: 'Issuer PAN update (card reissued); PAR unchanged',
        body: PanUpdateRequest,
        response: { 200: PanUpdateResponse },
      }),
    },
    async (request, reply) => {
      const body = request.body as PanUpdateRequest;
      return idempotent(request, reply, async () => ({ status: 200, body: await service.updatePan(body) }));
    },
  );

  app.put(
    '/v1/tokens/:tokenId/metadata',
    {
      schema: schema({
        summary: 'Card metadata (art, issuer name, terms)',
        body: CardMetadata,
        response: { 200: CardMetadata },
      }),
    },
    async (request) => {
      const { tokenId } = request.params as { tokenId: string };
      await service.setMetadata(tokenId, request.body as CardMetadata, requestor(request));
      return service.getMetadata(tokenId, requestor(request));
    },
  );

  app.get(
    '/v1/tokens/:tokenId/metadata',
    { schema: schema({ summary: 'Card metadata', response: { 200: CardMetadata } }) },
    async (request) =>
      service.getMetadata((request.params as { tokenId: string }).tokenId, requestor(request)),
  );

  app.post(
    '/v1/tokens/:tokenId/provisioning',
    {
      schema: schema({
        summary: 'Start provisioning: the first command APDU to relay',
        response: { 200: ProvisioningStep },
      }),
    },
    async (request, reply) => {
      const trid = requestor(request);
      const { tokenId } = request.params as { tokenId: string };
      return idempotent(request, reply, async () => ({
        status: 200,
        body: stepBody(await provisioner.start(tokenId, trid)),
      }));
    },
  );

  app.post(
    '/v1/tokens/:tokenId/provisioning/relay',
    {
      schema: schema({
        summary: 'Relay the response APDU; get the next command or the end',
        body: RelayRequest,
        response: { 200: ProvisioningStep },
      }),
    },
    async (request, reply) => {
      const trid = requestor(request);
      const { tokenId } = request.params as { tokenId: string };
      const body = request.body as RelayRequest;
      return idempotent(request, reply, async () => ({
        status: 200,
        body: stepBody(
          await provisioner.relay(tokenId, new Uint8Array(Buffer.from(body.response, 'base64')), trid),
        ),
      }));
    },
  );

  app.post(
    '/v1/webhooks/subscriptions',
    {
      schema: schema({
        summary: 'Subscribe to lifecycle events (Standard Webhooks)',
        body: WebhookSubscriptionRequest,
        response: { 201: WebhookSubscription },
      }),
    },
    async (request, reply) => {
      const trid = requestor(request);
      const body = request.body as WebhookSubscriptionRequest;
      return idempotent(request, reply, async () => {
        const s = await webhooks.subscribe({
          requestorTrid: trid,
          url: body.url,
          ...(body.eventTypes === undefined ? {} : { eventTypes: body.eventTypes }),
        });
        return {
          status: 201,
          body: { id: s.id, url: s.url, eventTypes: [...s.eventTypes], secret: s.secret },
        };
      });
    },
  );

  app.post(
    '/v1/webhooks/events/:eventId/replay',
    {
      schema: schema({
        summary: 'Deliver an event again to every subscription',
        response: { 200: WebhookReplayResponse },
      }),
    },
    async (request, reply) => {
      const trid = requestor(request);
      const { eventId } = request.params as { eventId: string };
      return idempotent(request, reply, async () => ({
        status: 200,
        body: { eventId, deliveries: await webhooks.replay(eventId, trid) },
      }));
    },
  );

  await app.ready();
  return app;
}
