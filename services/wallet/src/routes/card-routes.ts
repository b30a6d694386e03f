import type { Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  CardParams,
  CardsQuery,
  CardView,
  DeviceParams,
  DigitizeBody,
  EmptyBody,
  OtpBody,
  Problem,
  ProvisioningBody,
  ProvisioningView,
} from '../api-schemas.ts';
import { EventHub } from '../event-hub.ts';
import type { TspToken } from '../tsp-client.ts';
import type { Card, CardStatus } from '../types.ts';
import { cardView, type WalletContext } from '../wallet-context.ts';
import { WalletError } from '../wallet-error.ts';
import type { Owner } from '../wallet-store.ts';
import { downstreamKey, notFound, ownerOf } from './route-helpers.ts';

const user = { config: { auth: 'user' as const } };
const security = [{ session: [] }];

/** The wallet's card status for a TSP token status; `inactive` keeps the wallet's own step. */
export function cardStatusOf(token: TspToken['status'], current: CardStatus): CardStatus {
  switch (token) {
    case 'active':
      return 'active';
    case 'suspended':
      return 'suspended';
    case 'deleted':
      return 'removed';
    case 'inactive':
      return current === 'pending-otp' ? 'pending-otp' : 'provisioning';
  }
}

export function registerCardRoutes(app: FastifyInstance, ctx: WalletContext): void {
  const { store, tsp } = ctx;

  async function ownedCard(
    request: FastifyRequest<{ Params: { cardId: string } }>,
  ): Promise<{ owner: Owner; card: Card }> {
    const owner = ownerOf(request);
    const card = await store.getCard(owner, request.params.cardId);
    if (card === undefined) throw notFound();
    return { owner, card };
  }

  app.get<{ Querystring: Static<typeof CardsQuery> }>(
    '/v1/cards',
    {
      ...user,
      schema: {
        tags: ['cards'],
        security,
        querystring: CardsQuery,
        response: { 200: { type: 'object', properties: { cards: { type: 'array', items: CardView } } } },
      },
    },
    async (request) => {
      const owner = ownerOf(request);
      const deviceId = request.query.deviceId;
      // Another owner's device id is as absent as an unknown one (invariant 9).
      if (deviceId !== undefined && (await store.getDevice(owner, deviceId)) === undefined) throw notFound();
      return { cards: (await store.listCards(owner, deviceId)).map(cardView) };
    },
  );

  app.get<{ Params: Static<typeof CardParams> }>(
    '/v1/cards/:cardId',
    {
      ...user,
      schema: { tags: ['cards'], security, params: CardParams, response: { 200: CardView, 404: Problem } },
    },
    async (request) => cardView((await ownedCard(request)).card),
  );

  // Digitize: the companion's JWE goes to the TSP as it is, with the attested device certificate
  // (the token service's contract takes no risk data yet); the answer is a token id and a last four.
  app.post<{ Params: Static<typeof DeviceParams>; Body: Static<typeof DigitizeBody> }>(
    '/v1/devices/:deviceId/cards',
    {
      ...user,
      schema: {
        tags: ['cards'],
        security,
        params: DeviceParams,
        body: DigitizeBody,
        response: { 201: CardView, 404: Problem, 409: Problem, 422: Problem, 502: Problem },
      },
    },
    async (request, reply) => {
      const owner = ownerOf(request);
      const device = await store.getDevice(owner, request.params.deviceId);
      if (device === undefined) throw notFound();
      if (device.state !== 'active')
        throw new WalletError('ERR_CONFLICT', undefined, { reason: `device-${device.state}` });
      const tenant = await store.getTenant(owner.tenantId);
      if (!tenant!.allowedNetworks.includes(request.body.network))
        throw new WalletError('ERR_NETWORK_NOT_ALLOWED');
      const result = await tsp.tokenize(
        {
          requestorTrid: tenant!.trid,
          encryptedCard: request.body.encryptedCard,
          deviceCertificateChain: device.chain,
          ...(request.body.label === undefined ? {} : { label: request.body.label }),
        },
        downstreamKey(request, 'tokenize'),
      );
      if (result.status === 'declined')
        throw new WalletError('ERR_DECLINED', undefined, { reason: result.reason });
      const token = result.token;
      // Art and issuer name, when the issuer gave the TSP any; a card is added without them otherwise.
      const metadata = await tsp
        .cardMetadata(tenant!.trid, token.tokenId)
        .catch(() => ({}) as { artUrl?: string; issuerName?: string });
      const card = await store.addCard({
        id: ctx.id('crd'),
        tenantId: owner.tenantId,
        userId: owner.userId,
        deviceId: device.id,
        tokenReference: token.tokenId,
        last4: token.lastFour,
        network: token.network ?? request.body.network,
        artUrl: metadata.artUrl ?? token.cardArtUrl ?? `https://art.invalid/${request.body.network}.png`,
        issuerName: metadata.issuerName ?? token.issuerName ?? 'Issuer',
        status: result.status === 'step-up' ? 'pending-otp' : cardStatusOf(token.status, 'provisioning'),
        tspStatusVersion: 0,
      });
      ctx.pushCard(card, 'card.added');
      return reply.code(201).send(cardView(card));
    },
  );

  app.post<{ Params: Static<typeof CardParams>; Body: Static<typeof OtpBody> }>(
    '/v1/cards/:cardId/otp',
    {
      ...user,
      schema: {
        tags: ['cards'],
        security,
        params: CardParams,
        body: OtpBody,
        response: { 200: CardView, 404: Problem, 409: Problem, 422: Problem },
      },
    },
    async (request) => {
      const { owner, card } = await ownedCard(request);
      if (card.status !== 'pending-otp')
        throw new WalletError('ERR_CONFLICT', undefined, { reason: `card-${card.status}` });
      const tenant = (await store.getTenant(owner.tenantId))!;
      const token = await tsp.verifyOtp(
        tenant.trid,
        card.tokenReference,
        request.body.otp,
        downstreamKey(request, 'otp'),
      );
      const status = token.status === 'inactive' ? 'provisioning' : cardStatusOf(token.status, card.status);
      await store.setCardStatus(card.id, status);
      const updated = { ...card, status, updatedAt: new Date(ctx.nowMs()).toISOString() };
      ctx.pushCard(updated);
      return cardView(updated);
    },
  );

  // The provisioning relay: APDUs between the TSP's loader and the secure element, as opaque bytes.
  app.post<{ Params: Static<typeof CardParams>; Body: Static<typeof ProvisioningBody> }>(
    '/v1/cards/:cardId/provisioning',
    {
      ...user,
      schema: {
        tags: ['cards'],
        security,
        params: CardParams,
        body: ProvisioningBody,
        response: { 200: ProvisioningView, 404: Problem, 409: Problem },
      },
    },
    async (request) => {
      const { owner, card } = await ownedCard(request);
      if (card.status !== 'provisioning')
        throw new WalletError('ERR_CONFLICT', undefined, { reason: `card-${card.status}` });
      const tenant = (await store.getTenant(owner.tenantId))!;
      const step = await tsp.provisioning(
        tenant.trid,
        card.tokenReference,
        request.body.responses.map((r) => new Uint8Array(Buffer.from(r, 'hex'))),
        downstreamKey(request, 'provisioning'),
      );
      return {
        commands: step.commands.map((c) => Buffer.from(c).toString('hex').toUpperCase()),
        done: step.done,
      };
    },
  );

  app.post<{ Params: Static<typeof CardParams>; Body: Static<typeof EmptyBody> }>(
    '/v1/cards/:cardId/default',
    {
      // The key is claimed and the answer stored in the transaction that switches the card.
      config: { auth: 'user', idempotency: 'inline' },
      schema: {
        tags: ['cards'],
        security,
        params: CardParams,
        body: EmptyBody,
        response: { 200: CardView, 404: Problem, 409: Problem },
      },
    },
    async (request, reply) => {
      const owner = ownerOf(request);
      const found = await store.getCardWithDeviceState(owner, request.params.cardId);
      if (found === undefined) throw notFound();
      const { card, deviceState } = found;
      if (card.status !== 'active')
        throw new WalletError('ERR_CONFLICT', undefined, { reason: `card-${card.status}` });
      if (deviceState !== 'active')
        throw new WalletError('ERR_CONFLICT', undefined, { reason: 'device-not-active' });
      const updated = { ...card, isDefault: true };
      const body = JSON.stringify(cardView(updated));
      const inline = request.inlineIdempotency;
      await store.setDefaultCard(
        card,
        ctx.id('cmd'),
        inline === undefined ? undefined : { ...inline, statusCode: 200, response: body },
      );
      ctx.pushCard(updated, 'card.default');
      ctx.hub.publish(EventHub.deviceChannel(owner.tenantId, card.deviceId), {
        type: 'device.command',
        data: { kind: 'set-default', tokenReference: card.tokenReference },
      });
      return reply.code(200).type('application/json; charset=utf-8').send(body);
    },
  );

  // Remove: the token is deleted at the TSP (committed there first), then the applet removal is queued.
  app.delete<{ Params: Static<typeof CardParams> }>(
    '/v1/cards/:cardId',
    {
      ...user,
      schema: { tags: ['cards'], security, params: CardParams, response: { 404: Problem, 502: Problem } },
    },
    async (request, reply) => {
      const { owner, card } = await ownedCard(request);
      const tenant = (await store.getTenant(owner.tenantId))!;
      const [outcome] = await tsp.changeStatus(
        {
          requestorTrid: tenant.trid,
          tokenIds: [card.tokenReference],
          action: 'delete',
          actor: 'cardholder',
          reason: 'removed by the cardholder',
        },
        downstreamKey(request, `delete ${card.tokenReference}`),
      );
      if (
        outcome === undefined ||
        (!outcome.ok && outcome.problem !== 'not-allowed' && outcome.problem !== 'not-found')
      )
        throw new WalletError('ERR_TSP_UNAVAILABLE', undefined, { reason: 'lifecycle' });
      await store.setCardStatus(card.id, 'removed');
      await store.addDeviceCommand(owner.tenantId, card.deviceId, {
        id: ctx.id('cmd'),
        kind: 'delete-applet',
        tokenReference: card.tokenReference,
      });
      ctx.pushCard({ ...card, status: 'removed', isDefault: false }, 'card.removed');
      ctx.hub.publish(EventHub.deviceChannel(owner.tenantId, card.deviceId), {
        type: 'device.command',
        data: { kind: 'delete-applet', tokenReference: card.tokenReference },
      });
      return reply.code(204).send();
    },
  );

  app.get('/v1/tsp/encryption-key', { ...user, schema: { tags: ['cards'], security } }, async () => ({
    jwk: await tsp.encryptionKey(),
  }));
}
