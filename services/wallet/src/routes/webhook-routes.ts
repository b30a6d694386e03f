import type { Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyInstance } from 'fastify';
import { TspWebhookPayload } from '../api-schemas.ts';
import { EventHub } from '../event-hub.ts';
import { verifyStandardWebhook } from '../standard-webhooks.ts';
import type { CardStatus } from '../types.ts';
import { cardView, type WalletContext } from '../wallet-context.ts';
import { WalletError } from '../wallet-error.ts';

const payloadCheck = TypeCompiler.Compile(TspWebhookPayload);

/** The card status a TSP lifecycle event sets (token.created keeps the wallet's own step). */
const STATUS_OF_EVENT: Readonly<Record<string, CardStatus>> = {
  'token.activated': 'active',
  'token.suspended': 'suspended',
  'token.resumed': 'active',
  'token.deleted': 'removed',
};

/**
 * TSP webhooks (Standard Webhooks): the raw body is verified before it is parsed; each webhook id
 * is applied once; a status event applies only when newer than what the card has (its `at`), so
 * events that arrive out of order never move a card back. Transaction events are pushed as they are.
 */
export function registerWebhookRoutes(app: FastifyInstance, ctx: WalletContext): void {
  app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) =>
      done(null, body),
    );

    scope.post(
      '/v1/webhooks/tsp',
      { config: { auth: 'webhook', idempotency: false }, schema: { tags: ['webhooks'], hide: false } },
      async (request, reply) => {
        const raw = typeof request.body === 'string' ? request.body : '';
        const ok = verifyStandardWebhook(
          ctx.options.webhookSecret,
          raw,
          {
            id: request.headers['webhook-id'],
            timestamp: request.headers['webhook-timestamp'],
            signature: request.headers['webhook-signature'],
          },
          ctx.nowMs(),
        );
        if (!ok) throw new WalletError('ERR_WEBHOOK_SIGNATURE');
        let payload: Static<typeof TspWebhookPayload>;
        try {
          payload = JSON.parse(raw);
        } catch {
          throw new WalletError('ERR_BAD_JSON');
        }
        if (!payloadCheck.Check(payload) || Number.isNaN(Date.parse(payload.at)))
          throw new WalletError('ERR_VALIDATION', undefined, { reason: 'webhook-payload' });
        const to = STATUS_OF_EVENT[payload.type];
        const result = await ctx.store.applyWebhook({
          webhookId: request.headers['webhook-id'] as string,
          eventType: payload.type,
          tokenReference: payload.tokenId ?? null,
          ...(to === undefined ? {} : { status: { to, version: Date.parse(payload.at) } }),
        });
        if (result === undefined) return reply.code(200).send({ outcome: 'duplicate' });
        const card = result.card;
        if (card !== undefined && result.outcome === 'applied') ctx.pushCard(card, 'card.updated');
        if (card !== undefined && payload.type.startsWith('transaction.')) {
          // Only what a notification shows: amount, currency, merchant name, outcome, the card's last four.
          const d = payload.data;
          const data = {
            cardId: card.id,
            last4: card.last4,
            amountMinor: typeof d.amountMinor === 'number' ? d.amountMinor : null,
            currency: typeof d.currency === 'string' ? d.currency.slice(0, 3) : null,
            merchant: typeof d.merchant === 'string' ? d.merchant.slice(0, 64) : null,
            approved: d.approved === true,
          };
          ctx.hub.publish(EventHub.userChannel(card.tenantId, card.userId), { type: 'transaction', data });
        }
        return reply
          .code(200)
          .send({ outcome: result.outcome, ...(card === undefined ? {} : { card: cardView(card).status }) });
      },
    );
  });
}
