import { createHmac } from 'node:crypto';
import type { Hsm } from '@amulet/hsm';
import type { Store, WebhookDelivery, WebhookSubscription } from '@amulet/store';
import { TokenServiceError } from './token-service-error.ts';
import { newId, type World } from './world.ts';

/** Standard Webhooks (standardwebhooks.com): the three headers of a signed delivery. */
export interface SignedWebhook {
  readonly headers: {
    readonly 'webhook-id': string;
    readonly 'webhook-timestamp': string;
    readonly 'webhook-signature': string;
    readonly 'content-type': 'application/json';
  };
  readonly body: string;
}

/**
 * Signs a payload per Standard Webhooks: HMAC-SHA256 under the secret's bytes over
 * `${id}.${timestamp}.${body}`, sent as `v1,<base64>`.
 */
export function signWebhook(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string,
): SignedWebhook {
  if (!secret.startsWith('whsec_'))
    throw new TokenServiceError('ERR_TSP_INTERNAL', 'a webhook secret starts with whsec_');
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return {
    headers: {
      'webhook-id': id,
      'webhook-timestamp': String(timestampSeconds),
      'webhook-signature': `v1,${signature}`,
      'content-type': 'application/json',
    },
    body,
  };
}

/** Sends one delivery; resolves with the HTTP status (0 when no answer came). */
export type WebhookSender = (url: string, webhook: SignedWebhook) => Promise<number>;

export const fetchSender: WebhookSender = async (url, webhook) => {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: webhook.headers,
      body: webhook.body,
      signal: AbortSignal.timeout(10_000),
    });
    return response.status;
  } catch {
    return 0;
  }
};

const DAY_MS = 24 * 60 * 60_000;

export interface WebhookOptions {
  readonly store: Store;
  readonly hsm: Hsm;
  readonly world: World;
  /** AES `mac` key from which each subscription's secret is derived (nothing secret is stored). */
  readonly secretKeyId: string;
  readonly send?: WebhookSender;
  /** Attempts before a delivery is marked failed; default 8. */
  readonly attemptsMax?: number;
  /** First retry delay; doubles each time, capped at `retryDelayMaxMs`. Defaults 5 s and 1 h. */
  readonly retryDelayMs?: number;
  readonly retryDelayMaxMs?: number;
  /**
   * How long an event stays after it was raised, for `replay` and the event list (`expire`);
   * default 30 days. At least one day.
   */
  readonly eventRetentionMs?: number;
}

/**
 * Lifecycle notifications to token requestors: subscriptions, signed deliveries from the outbox
 * the vault transactions fill, retries with exponential backoff on the injected clock, replay.
 */
export class Webhooks {
  readonly #options: WebhookOptions;
  constructor(options: WebhookOptions) {
    const retention = options.eventRetentionMs;
    if (retention !== undefined && !(Number.isSafeInteger(retention) && retention >= DAY_MS))
      throw new TokenServiceError(
        'ERR_TSP_INPUT',
        'eventRetentionMs must be a whole number of ms, at least a day',
      );
    this.#options = options;
  }

  /**
   * Deletes events raised more than `eventRetentionMs` ago whose deliveries have all settled
   * (delivered, or failed after every attempt), oldest first, at most `limit` in one transaction;
   * `more` says whether to call again. An event still being retried stays. After it, `replay` of
   * such an event answers ERR_TSP_NOT_FOUND. `amulet serve` calls it every minute.
   */
  expire(limit = 100): Promise<{ readonly removed: number; readonly more: boolean }> {
    const { store, world } = this.#options;
    const retentionMs = this.#options.eventRetentionMs ?? 30 * DAY_MS;
    return store.webhooks.expireEvents(new Date(world.now().getTime() - retentionMs), limit);
  }

  /** The secret of a subscription: 32 bytes derived in the HSM (two CMACs), Standard Webhooks form. */
  async secretOf(subscriptionId: string): Promise<string> {
    const part = (n: number) =>
      this.#options.hsm.generateMac({
        keyId: this.#options.secretKeyId,
        algorithm: 'cmac',
        data: new TextEncoder().encode(`webhook-secret/${n}/${subscriptionId}`),
      });
    const bytes = Buffer.concat([await part(1), await part(2)]);
    return `whsec_${bytes.toString('base64')}`;
  }

  async subscribe(input: {
    requestorTrid: string;
    url: string;
    eventTypes?: readonly string[];
  }): Promise<WebhookSubscription & { secret: string }> {
    const subscription = await this.#options.store.webhooks.addSubscription({
      id: newId(this.#options.world, 'whs'),
      requestorTrid: input.requestorTrid,
      url: input.url,
      eventTypes: input.eventTypes ?? [],
    });
    return { ...subscription, secret: await this.secretOf(subscription.id) };
  }

  /** Sends every due delivery once; returns how many were attempted. */
  async runDue(limit = 100): Promise<number> {
    const { store, world } = this.#options;
    const due = await store.webhooks.due(world.now().toISOString(), limit);
    for (const delivery of due) await this.#attempt(delivery);
    return due.length;
  }

  async #attempt(delivery: WebhookDelivery): Promise<void> {
    const { store, world } = this.#options;
    const [event, subscription] = await Promise.all([
      store.webhooks.getEvent(delivery.eventId),
      store.webhooks.getSubscription(delivery.subscriptionId),
    ]);
    if (event === undefined || subscription === undefined) return;
    const signed = signWebhook(
      await this.secretOf(subscription.id),
      event.id,
      Math.floor(world.now().getTime() / 1000),
      JSON.stringify(event.payload),
    );
    const status = await (this.#options.send ?? fetchSender)(subscription.url, signed);
    const attempts = delivery.attempts + 1;
    const delivered = status >= 200 && status < 300;
    const failed = !delivered && attempts >= (this.#options.attemptsMax ?? 8);
    const delay = Math.min(
      (this.#options.retryDelayMs ?? 5000) * 2 ** (attempts - 1),
      this.#options.retryDelayMaxMs ?? 3_600_000,
    );
    await store.webhooks.updateDelivery({
      eventId: delivery.eventId,
      subscriptionId: delivery.subscriptionId,
      state: delivered ? 'delivered' : failed ? 'failed' : 'pending',
      attempts,
      nextAttemptAt: new Date(world.now().getTime() + (delivered || failed ? 0 : delay)).toISOString(),
      lastStatus: status,
    });
  }

  /** Replay: every delivery of the event goes back to pending, due now, with a fresh attempt count. */
  async replay(eventId: string, requestorTrid?: string): Promise<number> {
    const { store, world } = this.#options;
    const event = await store.webhooks.getEvent(eventId);
    if (event === undefined || (requestorTrid !== undefined && event.requestorTrid !== requestorTrid))
      throw new TokenServiceError('ERR_TSP_NOT_FOUND', 'no such event');
    const deliveries = await store.webhooks.deliveries(eventId);
    for (const d of deliveries)
      await store.webhooks.updateDelivery({
        ...d,
        state: 'pending',
        attempts: 0,
        nextAttemptAt: world.now().toISOString(),
      });
    return deliveries.length;
  }
}
