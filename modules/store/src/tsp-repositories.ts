import { StoreError } from './errors.ts';
import { check, panRecordFromRow, Repository, reusable, tokenFromRow } from './repositories.ts';
import type {
  PanRecordTable,
  TokenCardTable,
  TokenTable,
  WebhookDeliveryTable,
  WebhookEventTable,
  WebhookSubscriptionTable,
} from './schema.ts';
import type {
  AuthorizationView,
  ProvisioningState,
  TokenCard,
  WebhookDelivery,
  WebhookDeliveryState,
  WebhookEvent,
  WebhookSubscription,
} from './types.ts';

const provisioningStates: readonly string[] = ['step-up', 'pending', 'loading', 'confirmed', 'failed'];

function cardFromRow(r: TokenCardTable): TokenCard {
  return {
    tokenId: r.token_id,
    cvn: Number(r.cvn),
    psn: r.psn,
    imkKeyId: r.imk_key_id,
    provisioning: r.provisioning as ProvisioningState,
    updatedAt: r.updated_at,
  };
}

/**
 * What the token service keeps beside the vault row: each token's card profile (CVN, PSN, the
 * HSM key its cryptograms derive from) and provisioning state, and each card's metadata (art,
 * issuer name, terms), shared by all tokens of one PAN record.
 */
export class TokenCardRepository extends Repository {
  async add(card: Omit<TokenCard, 'updatedAt'>): Promise<TokenCard> {
    check(/^\d{2}$/.test(card.psn), 'a PSN has 2 digits');
    check(provisioningStates.includes(card.provisioning), 'unknown provisioning state');
    const row: TokenCardTable = {
      token_id: card.tokenId,
      cvn: card.cvn,
      psn: card.psn,
      imk_key_id: card.imkKeyId,
      provisioning: card.provisioning,
      updated_at: this.stamp(),
    };
    const db = this.db;
    await this.tx((q) =>
      q.run(
        reusable(
          this.engine.dialect,
          'cards.add',
          () =>
            db
              .insertInto('token_cards')
              .values({ token_id: '', cvn: 0, psn: '', imk_key_id: '', provisioning: '', updated_at: '' })
              .compile(),
          [row.token_id, row.cvn, row.psn, row.imk_key_id, row.provisioning, row.updated_at],
        ),
      ),
    );
    return cardFromRow(row);
  }

  async get(tokenId: string): Promise<TokenCard | undefined> {
    const db = this.db;
    const rows = await this.reader.all<TokenCardTable>(
      reusable(
        this.engine.dialect,
        'cards.get',
        () => db.selectFrom('token_cards').selectAll().where('token_id', '=', '').compile(),
        [tokenId],
      ),
    );
    return rows[0] && cardFromRow(rows[0]);
  }

  /** Compare-and-set on the provisioning state; false when the token was not in `from`. */
  async moveProvisioning(
    tokenId: string,
    from: readonly ProvisioningState[],
    to: ProvisioningState,
  ): Promise<boolean> {
    check(provisioningStates.includes(to), 'unknown provisioning state');
    const changed = await this.tx((q) =>
      q.run(
        this.db
          .updateTable('token_cards')
          .set({ provisioning: to, updated_at: this.stamp() })
          .where('token_id', '=', tokenId)
          .where('provisioning', 'in', [...from])
          .compile(),
      ),
    );
    return changed === 1;
  }

  /** The token, its card profile and its PAN record by DPAN, in one query (the authorization path). */
  async authorizationView(dpan: string): Promise<AuthorizationView | undefined> {
    const db = this.db;
    const rows = await this.reader.all<
      TokenTable &
        Omit<TokenCardTable, 'token_id' | 'updated_at'> & {
          card_updated_at: string;
          p_id: string;
          pan_lookup: Uint8Array;
          pan_ciphertext: Uint8Array;
          wrapping_key_id: string;
          wrapped_data_key: Uint8Array;
          par: string;
          p_created_at: string;
          p_updated_at: string;
        }
    >(
      reusable(
        this.engine.dialect,
        'cards.authorization-view',
        () =>
          db
            .selectFrom('tokens')
            .innerJoin('token_cards', 'token_cards.token_id', 'tokens.id')
            .innerJoin('pan_records', 'pan_records.id', 'tokens.pan_record_id')
            .selectAll('tokens')
            .select([
              'token_cards.cvn',
              'token_cards.psn',
              'token_cards.imk_key_id',
              'token_cards.provisioning',
              'token_cards.updated_at as card_updated_at',
              'pan_records.id as p_id',
              'pan_records.pan_lookup',
              'pan_records.pan_ciphertext',
              'pan_records.wrapping_key_id',
              'pan_records.wrapped_data_key',
              'pan_records.par',
              'pan_records.created_at as p_created_at',
              'pan_records.updated_at as p_updated_at',
            ])
            .where('tokens.dpan', '=', '')
            .compile(),
        [dpan],
      ),
    );
    const r = rows[0];
    if (r === undefined) return undefined;
    const pan: PanRecordTable = {
      id: r.p_id,
      pan_lookup: r.pan_lookup,
      pan_ciphertext: r.pan_ciphertext,
      wrapping_key_id: r.wrapping_key_id,
      wrapped_data_key: r.wrapped_data_key,
      par: r.par,
      created_at: r.p_created_at,
      updated_at: r.p_updated_at,
    };
    return {
      token: tokenFromRow(r),
      card: cardFromRow({
        token_id: r.id,
        cvn: r.cvn,
        psn: r.psn,
        imk_key_id: r.imk_key_id,
        provisioning: r.provisioning,
        updated_at: r.card_updated_at,
      }),
      panRecord: panRecordFromRow(pan),
    };
  }

  /** Card metadata (art, issuer name, terms) of one PAN record; replaces what was there. */
  async setMetadata(panRecordId: string, metadata: Readonly<Record<string, unknown>>): Promise<void> {
    const row = { pan_record_id: panRecordId, metadata: JSON.stringify(metadata), updated_at: this.stamp() };
    await this.tx((q) =>
      q.run(
        this.db
          .insertInto('card_metadata')
          .values(row)
          .onConflict((oc) =>
            oc.column('pan_record_id').doUpdateSet({ metadata: row.metadata, updated_at: row.updated_at }),
          )
          .compile(),
      ),
    );
  }

  async getMetadata(panRecordId: string): Promise<Record<string, unknown> | undefined> {
    const rows = await this.reader.all<{ metadata: string }>(
      this.db
        .selectFrom('card_metadata')
        .select('metadata')
        .where('pan_record_id', '=', panRecordId)
        .compile(),
    );
    return rows[0] && (JSON.parse(rows[0].metadata) as Record<string, unknown>);
  }
}

function subscriptionFromRow(r: WebhookSubscriptionTable): WebhookSubscription {
  return {
    id: r.id,
    requestorTrid: r.requestor_trid,
    url: r.url,
    eventTypes: JSON.parse(r.event_types) as string[],
    createdAt: r.created_at,
  };
}

function eventFromRow(r: WebhookEventTable): WebhookEvent {
  return {
    id: r.id,
    requestorTrid: r.requestor_trid,
    eventType: r.event_type,
    payload: JSON.parse(r.payload) as Record<string, unknown>,
    createdAt: r.created_at,
  };
}

function deliveryFromRow(r: WebhookDeliveryTable): WebhookDelivery {
  return {
    eventId: r.event_id,
    subscriptionId: r.subscription_id,
    state: r.state as WebhookDeliveryState,
    attempts: Number(r.attempts),
    nextAttemptAt: r.next_attempt_at,
    lastStatus: Number(r.last_status),
  };
}

/**
 * Webhook subscriptions, the events raised for a requestor, and one delivery row per (event,
 * subscription) that the dispatcher retries with backoff (the outbox pattern: an event and its
 * deliveries are written in the transaction that caused them).
 */
export class WebhookRepository extends Repository {
  async addSubscription(input: Omit<WebhookSubscription, 'createdAt'>): Promise<WebhookSubscription> {
    check(/^https?:\/\//.test(input.url), 'a webhook URL is http or https');
    const row: WebhookSubscriptionTable = {
      id: input.id,
      requestor_trid: input.requestorTrid,
      url: input.url,
      event_types: JSON.stringify(input.eventTypes),
      created_at: this.stamp(),
    };
    await this.tx((q) => q.run(this.db.insertInto('webhook_subscriptions').values(row).compile()));
    return subscriptionFromRow(row);
  }

  async getSubscription(id: string): Promise<WebhookSubscription | undefined> {
    const rows = await this.reader.all<WebhookSubscriptionTable>(
      this.db.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).compile(),
    );
    return rows[0] && subscriptionFromRow(rows[0]);
  }

  async listSubscriptions(requestorTrid: string): Promise<WebhookSubscription[]> {
    const rows = await this.reader.all<WebhookSubscriptionTable>(
      this.db
        .selectFrom('webhook_subscriptions')
        .selectAll()
        .where('requestor_trid', '=', requestorTrid)
        .orderBy('id')
        .compile(),
    );
    return rows.map(subscriptionFromRow);
  }

  /** Records an event and a pending delivery for each subscription of its requestor that wants it. */
  async raise(event: Omit<WebhookEvent, 'createdAt'>): Promise<WebhookEvent> {
    const at = this.stamp();
    const row: WebhookEventTable = {
      id: event.id,
      requestor_trid: event.requestorTrid,
      event_type: event.eventType,
      payload: JSON.stringify(event.payload),
      created_at: at,
    };
    const d = this.engine.dialect;
    const db = this.db;
    // Compiled once and reused (the token service raises one event per tokenization).
    await this.tx(async (q) => {
      await q.run(
        reusable(
          d,
          'webhooks.event',
          () =>
            db
              .insertInto('webhook_events')
              .values({ id: '', requestor_trid: '', event_type: '', payload: '', created_at: '' })
              .compile(),
          [row.id, row.requestor_trid, row.event_type, row.payload, row.created_at],
        ),
      );
      const subscriptions = await q.all<WebhookSubscriptionTable>(
        reusable(
          d,
          'webhooks.subscriptions-of',
          () => db.selectFrom('webhook_subscriptions').selectAll().where('requestor_trid', '=', '').compile(),
          [event.requestorTrid],
        ),
      );
      for (const s of subscriptions.map(subscriptionFromRow)) {
        if (s.eventTypes.length > 0 && !s.eventTypes.includes(event.eventType)) continue;
        await q.run(
          reusable(
            d,
            'webhooks.delivery',
            () =>
              db
                .insertInto('webhook_deliveries')
                .values({
                  event_id: '',
                  subscription_id: '',
                  state: 'pending',
                  attempts: 0,
                  next_attempt_at: '',
                  last_status: 0,
                })
                .compile(),
            [event.id, s.id, 'pending', 0, at, 0],
          ),
        );
      }
    });
    return eventFromRow(row);
  }

  async getEvent(id: string): Promise<WebhookEvent | undefined> {
    const rows = await this.reader.all<WebhookEventTable>(
      this.db.selectFrom('webhook_events').selectAll().where('id', '=', id).compile(),
    );
    return rows[0] && eventFromRow(rows[0]);
  }

  async listEvents(requestorTrid: string, limit = 100): Promise<WebhookEvent[]> {
    check(Number.isInteger(limit) && limit > 0 && limit <= 1000, 'a page limit is 1 to 1000');
    const rows = await this.reader.all<WebhookEventTable>(
      this.db
        .selectFrom('webhook_events')
        .selectAll()
        .where('requestor_trid', '=', requestorTrid)
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit)
        .compile(),
    );
    return rows.map(eventFromRow);
  }

  /** Pending deliveries whose next attempt is due at `now` (ISO 8601), oldest first. */
  async due(now: string, limit = 100): Promise<WebhookDelivery[]> {
    const rows = await this.reader.all<WebhookDeliveryTable>(
      this.db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('state', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .orderBy('next_attempt_at')
        .limit(limit)
        .compile(),
    );
    return rows.map(deliveryFromRow);
  }

  async deliveries(eventId: string): Promise<WebhookDelivery[]> {
    const rows = await this.reader.all<WebhookDeliveryTable>(
      this.db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('event_id', '=', eventId)
        .orderBy('subscription_id')
        .compile(),
    );
    return rows.map(deliveryFromRow);
  }

  /**
   * Deletes the events raised before `before` whose deliveries have all settled (delivered or
   * failed; none pending), with their deliveries, oldest first, at most `limit` in one
   * transaction; `more` says whether older settled ones are left. An event still being delivered
   * stays whatever its age.
   */
  async expireEvents(
    before: Date,
    limit = 100,
  ): Promise<{ readonly removed: number; readonly more: boolean }> {
    check(Number.isSafeInteger(limit) && limit > 0, 'a limit is a whole number above zero');
    const cutoff = before.toISOString();
    return this.tx(async (q) => {
      const oldest = await q.all<{ id: string }>(
        this.db
          .selectFrom('webhook_events')
          .select('id')
          .where('created_at', '<', cutoff)
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom('webhook_deliveries')
                  .select('event_id')
                  .whereRef('webhook_deliveries.event_id', '=', 'webhook_events.id')
                  .where('webhook_deliveries.state', '=', 'pending'),
              ),
            ),
          )
          .orderBy('created_at')
          .limit(limit + 1)
          .compile(),
      );
      const doomed = oldest.slice(0, limit);
      for (const { id } of doomed) {
        await q.run(this.db.deleteFrom('webhook_deliveries').where('event_id', '=', id).compile());
        await q.run(this.db.deleteFrom('webhook_events').where('id', '=', id).compile());
      }
      return { removed: doomed.length, more: oldest.length > limit };
    });
  }

  /** The outcome of one attempt (or a replay: back to pending, due at `nextAttemptAt`). */
  async updateDelivery(update: Omit<WebhookDelivery, never>): Promise<void> {
    const changed = await this.tx((q) =>
      q.run(
        this.db
          .updateTable('webhook_deliveries')
          .set({
            state: update.state,
            attempts: update.attempts,
            next_attempt_at: update.nextAttemptAt,
            last_status: update.lastStatus,
          })
          .where('event_id', '=', update.eventId)
          .where('subscription_id', '=', update.subscriptionId)
          .compile(),
      ),
    );
    if (changed === 0) throw new StoreError('ERR_STORE_NOT_FOUND', 'no webhook delivery has this key');
  }
}
