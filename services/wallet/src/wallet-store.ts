import {
  type Engine,
  isUniqueViolation,
  migrateOpened,
  openPostgresEngine,
  openSqliteEngine,
  type Querier,
  queryBuilder,
} from '@amulet/store';
import { type CompiledQuery, type Kysely, sql } from 'kysely';
import { walletMigrations } from './migrations.ts';
import type { CardTable, DeviceTable, TenantTable, UserTable, WalletSchema } from './schema.ts';
import type {
  Card,
  CardStatus,
  Device,
  DeviceCommand,
  DeviceCommandKind,
  DeviceState,
  Session,
  Tenant,
  User,
  WebhookOutcome,
} from './types.ts';
import { WalletError } from './wallet-error.ts';

export type Clock = () => Date;

export type WalletStoreOptions =
  | { readonly kind: 'sqlite'; readonly file: string; readonly groupCommit?: boolean }
  | {
      readonly kind: 'postgres';
      readonly database: string;
      readonly host?: string;
      readonly port?: number;
      readonly user?: string;
      readonly max?: number;
    };

/** A key to claim and complete inside the transaction that does the work (one commit instead of three). */
export interface InlineIdempotency {
  readonly scope: string;
  readonly key: string;
  readonly requestHash: string;
}

export type IdempotencyBegin =
  | { readonly kind: 'started' }
  | { readonly kind: 'in-progress' }
  | { readonly kind: 'conflict' }
  | { readonly kind: 'replay'; readonly statusCode: number; readonly response: string };

const tenantFrom = (r: TenantTable): Tenant => ({
  id: r.id,
  name: r.name,
  brand: JSON.parse(r.brand),
  pinPolicy: JSON.parse(r.pin_policy),
  allowedNetworks: JSON.parse(r.allowed_networks),
  trid: r.trid,
  pkiTenantId: r.pki_tenant_id,
  deviceCaPem: r.device_ca_pem,
  apiKeyId: r.api_key_id,
  apiKeyHash: r.api_key_hash,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const userFrom = (r: UserTable): User => ({
  id: r.id,
  tenantId: r.tenant_id,
  email: r.email,
  passwordHash: r.password_hash,
  failedLogins: Number(r.failed_logins),
  lockedUntil: r.locked_until,
  createdAt: r.created_at,
});

const deviceFrom = (r: DeviceTable): Device => ({
  id: r.id,
  tenantId: r.tenant_id,
  userId: r.user_id,
  certSerial: r.cert_serial,
  certFingerprint: r.cert_fingerprint,
  chain: JSON.parse(r.chain),
  model: r.model,
  oemId: r.oem_id,
  state: r.state as DeviceState,
  stateVersion: Number(r.state_version),
  pairedAt: r.paired_at,
  attestedAt: r.attested_at,
  updatedAt: r.updated_at,
});

const cardFrom = (r: CardTable): Card => ({
  id: r.id,
  tenantId: r.tenant_id,
  userId: r.user_id,
  deviceId: r.device_id,
  tokenReference: r.token_reference,
  last4: r.last4,
  network: r.network,
  artUrl: r.art_url,
  issuerName: r.issuer_name,
  status: r.status as CardStatus,
  isDefault: Number(r.is_default) === 1,
  tspStatusVersion: Number(r.tsp_status_version),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** The owner of an object: every read and write of a user's object names both (invariant 9). */
export interface Owner {
  readonly tenantId: string;
  readonly userId: string;
}

/**
 * The wallet's storage on SQLite or PostgreSQL, through @amulet/store's engine (Kysely compiles,
 * the engine executes, so both dialects share these queries). Every query of a user's object is
 * scoped by tenant and user: another owner's id reads as absent.
 */
export class WalletStore {
  readonly dialect: 'sqlite' | 'postgres';
  readonly #engine: Engine;
  readonly #db: Kysely<WalletSchema>;
  readonly #now: Clock;

  private constructor(engine: Engine, now: Clock) {
    this.#engine = engine;
    this.dialect = engine.dialect;
    this.#db = queryBuilder<WalletSchema>(engine.dialect);
    this.#now = now;
  }

  static async open(options: WalletStoreOptions, now: Clock): Promise<WalletStore> {
    const engine =
      options.kind === 'sqlite'
        ? openSqliteEngine({
            file: options.file,
            // Reads share a read snapshot (one WAL read lock) for up to a millisecond, across
            // event-loop turns; the wallet's own commits end it first, so a request sees every
            // answered write. A write to wallet.db by another process may be seen a millisecond late.
            sharedReadSnapshots: true,
            readSnapshotMs: 1,
            ...(options.groupCommit === undefined ? {} : { groupCommit: options.groupCommit }),
          })
        : await openPostgresEngine(options);
    return new WalletStore(await migrateOpened(engine, now, walletMigrations), now);
  }

  close(): Promise<void> {
    return this.#engine.close();
  }

  /** Transactions run and commits made so far (group commit shares one commit among transactions). */
  stats(): { transactions: number; commits: number } {
    return this.#engine.stats();
  }

  /**
   * The hot reads compile once: Kysely builds the statement the first time and later calls reuse
   * its SQL with their own parameters, given in the order the builder emits them (checked on the
   * first compile, so a reordered builder fails loudly instead of binding the wrong values).
   */
  readonly #compiled = new Map<string, CompiledQuery>();
  #prepared(key: string, parameters: readonly unknown[], build: () => CompiledQuery): CompiledQuery {
    const cached = this.#compiled.get(key);
    if (cached !== undefined) return { ...cached, parameters };
    const compiled = build();
    if (JSON.stringify(compiled.parameters) !== JSON.stringify(parameters))
      throw new Error(`prepared query ${key}: parameters out of order`);
    this.#compiled.set(key, compiled);
    return compiled;
  }

  #stamp(): string {
    return this.#now().toISOString();
  }

  get #read(): Querier {
    return this.#engine.read;
  }

  /** Runs `fn` in one transaction. */
  transaction<T>(fn: (q: Querier) => Promise<T>): Promise<T> {
    return this.#engine.transaction(fn);
  }

  async #unique<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (cause) {
      if (isUniqueViolation(cause)) throw new WalletError('ERR_DUPLICATE', undefined, { cause });
      throw cause;
    }
  }

  // Tenants

  async addTenant(tenant: Omit<Tenant, 'createdAt' | 'updatedAt'>): Promise<Tenant> {
    const at = this.#stamp();
    await this.#unique(() =>
      this.transaction((q) =>
        q.run(
          this.#db
            .insertInto('wallet_tenants')
            .values({
              id: tenant.id,
              name: tenant.name,
              brand: JSON.stringify(tenant.brand),
              pin_policy: JSON.stringify(tenant.pinPolicy),
              allowed_networks: JSON.stringify(tenant.allowedNetworks),
              trid: tenant.trid,
              pki_tenant_id: tenant.pkiTenantId,
              device_ca_pem: tenant.deviceCaPem,
              api_key_id: tenant.apiKeyId,
              api_key_hash: tenant.apiKeyHash,
              created_at: at,
              updated_at: at,
            })
            .compile(),
        ),
      ),
    );
    return { ...tenant, createdAt: at, updatedAt: at };
  }

  async getTenant(id: string): Promise<Tenant | undefined> {
    const rows = await this.#read.all<TenantTable>(
      this.#prepared('getTenant', [id], () =>
        this.#db.selectFrom('wallet_tenants').selectAll().where('id', '=', id).compile(),
      ),
    );
    return rows[0] && tenantFrom(rows[0]);
  }

  async getTenantByApiKey(apiKeyId: string): Promise<Tenant | undefined> {
    const rows = await this.#read.all<TenantTable>(
      this.#db.selectFrom('wallet_tenants').selectAll().where('api_key_id', '=', apiKeyId).compile(),
    );
    return rows[0] && tenantFrom(rows[0]);
  }

  async getTenantByTrid(trid: string): Promise<Tenant | undefined> {
    const rows = await this.#read.all<TenantTable>(
      this.#db.selectFrom('wallet_tenants').selectAll().where('trid', '=', trid).compile(),
    );
    return rows[0] && tenantFrom(rows[0]);
  }

  async updateTenantSettings(
    id: string,
    settings: Partial<Pick<Tenant, 'brand' | 'pinPolicy' | 'allowedNetworks'>>,
  ): Promise<Tenant | undefined> {
    await this.transaction((q) =>
      q.run(
        this.#db
          .updateTable('wallet_tenants')
          .set({
            ...(settings.brand === undefined ? {} : { brand: JSON.stringify(settings.brand) }),
            ...(settings.pinPolicy === undefined ? {} : { pin_policy: JSON.stringify(settings.pinPolicy) }),
            ...(settings.allowedNetworks === undefined
              ? {}
              : { allowed_networks: JSON.stringify(settings.allowedNetworks) }),
            updated_at: this.#stamp(),
          })
          .where('id', '=', id)
          .compile(),
      ),
    );
    return this.getTenant(id);
  }

  // Users and sessions

  async addUser(user: Omit<User, 'createdAt' | 'failedLogins' | 'lockedUntil'>): Promise<User> {
    const at = this.#stamp();
    await this.#unique(() =>
      this.transaction((q) =>
        q.run(
          this.#db
            .insertInto('wallet_users')
            .values({
              id: user.id,
              tenant_id: user.tenantId,
              email: user.email,
              password_hash: user.passwordHash,
              failed_logins: 0,
              locked_until: null,
              created_at: at,
            })
            .compile(),
        ),
      ),
    );
    return { ...user, failedLogins: 0, lockedUntil: null, createdAt: at };
  }

  async getUser(tenantId: string, userId: string): Promise<User | undefined> {
    const rows = await this.#read.all<UserTable>(
      this.#db
        .selectFrom('wallet_users')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', userId)
        .compile(),
    );
    return rows[0] && userFrom(rows[0]);
  }

  async findUserByEmail(tenantId: string, email: string): Promise<User | undefined> {
    const rows = await this.#read.all<UserTable>(
      this.#db
        .selectFrom('wallet_users')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('email', '=', email)
        .compile(),
    );
    return rows[0] && userFrom(rows[0]);
  }

  /** Records a failed login; locks the account for `lockMs` when the count reaches `limit`. */
  async recordLoginFailure(user: User, limit: number, lockMs: number): Promise<void> {
    const failures = user.failedLogins + 1;
    const locked = failures >= limit;
    await this.transaction((q) =>
      q.run(
        this.#db
          .updateTable('wallet_users')
          .set({
            failed_logins: locked ? 0 : failures,
            locked_until: locked ? new Date(this.#now().getTime() + lockMs).toISOString() : user.lockedUntil,
          })
          .where('id', '=', user.id)
          .compile(),
      ),
    );
  }

  async recordLoginSuccess(user: User): Promise<void> {
    await this.transaction((q) =>
      q.run(
        this.#db
          .updateTable('wallet_users')
          .set({ failed_logins: 0, locked_until: null })
          .where('id', '=', user.id)
          .compile(),
      ),
    );
  }

  async addSession(idHash: string, owner: Owner, expiresAt: string): Promise<void> {
    await this.transaction((q) =>
      q.run(
        this.#db
          .insertInto('wallet_sessions')
          .values({
            id_hash: idHash,
            tenant_id: owner.tenantId,
            user_id: owner.userId,
            created_at: this.#stamp(),
            expires_at: expiresAt,
          })
          .compile(),
      ),
    );
  }

  async getSession(idHash: string): Promise<Session | undefined> {
    const rows = await this.#read.all<{ tenant_id: string; user_id: string; expires_at: string }>(
      this.#prepared('getSession', [idHash], () =>
        this.#db
          .selectFrom('wallet_sessions')
          .select(['tenant_id', 'user_id', 'expires_at'])
          .where('id_hash', '=', idHash)
          .compile(),
      ),
    );
    const r = rows[0];
    return r && { tenantId: r.tenant_id, userId: r.user_id, expiresAt: r.expires_at };
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.transaction((q) =>
      q.run(this.#db.deleteFrom('wallet_sessions').where('id_hash', '=', idHash).compile()),
    );
  }

  /**
   * Deletes what has ended: sessions and attestation challenges past their expiry, Idempotency-Keys
   * first used more than `idempotencyRetentionMs` ago (default 24 hours, the least Stripe keeps
   * them; at least one minute), and TSP webhooks received and device commands acknowledged more
   * than `historyRetentionMs` ago (default 31 days: the token service replays an event for 30;
   * at least a day). Oldest first, at most `limit` of each kind in one transaction; `more` says
   * whether to call again. Without it every login, challenge, POST, webhook and command would stay
   * in the database for as long as the wallet runs. `amulet serve` calls it every minute.
   */
  async expire(
    options: {
      readonly idempotencyRetentionMs?: number;
      readonly historyRetentionMs?: number;
      readonly limit?: number;
    } = {},
  ): Promise<{
    readonly sessions: number;
    readonly challenges: number;
    readonly idempotencyKeys: number;
    readonly webhooks: number;
    readonly commands: number;
    readonly more: boolean;
  }> {
    const idempotencyMs = options.idempotencyRetentionMs ?? 24 * 60 * 60_000;
    const historyMs = options.historyRetentionMs ?? 31 * 24 * 60 * 60_000;
    const limit = options.limit ?? 100;
    if (!(Number.isSafeInteger(idempotencyMs) && idempotencyMs >= 60_000))
      throw new WalletError(
        'ERR_VALIDATION',
        'idempotencyRetentionMs must be a whole number of ms, at least 60000',
      );
    if (!(Number.isSafeInteger(historyMs) && historyMs >= 24 * 60 * 60_000))
      throw new WalletError(
        'ERR_VALIDATION',
        'historyRetentionMs must be a whole number of ms, at least a day',
      );
    if (!(Number.isSafeInteger(limit) && limit >= 1))
      throw new WalletError('ERR_VALIDATION', 'limit must be a whole number, at least 1');
    const nowMs = this.#now().getTime();
    const ago = (ms: number) => new Date(nowMs - ms).toISOString();
    return this.transaction(async (q) => {
      /** Deletes up to `limit` rows of a table with a one-column key whose `column` is before `cutoff`, oldest first. */
      const deleteOldest = (table: string, key: string, column: string, cutoff: string, orEqual = false) =>
        q.run(
          sql`DELETE FROM ${sql.table(table)} WHERE ${sql.ref(key)} IN (SELECT ${sql.ref(key)} FROM ${sql.table(table)}
            WHERE ${sql.ref(column)} ${sql.raw(orEqual ? '<=' : '<')} ${cutoff} ORDER BY ${sql.ref(column)} LIMIT ${limit})`.compile(
            this.#db,
          ),
        );
      const sessions = await deleteOldest('wallet_sessions', 'id_hash', 'expires_at', ago(0), true);
      const challenges = await deleteOldest('wallet_challenges', 'nonce_hash', 'expires_at', ago(0), true);
      const webhooks = await deleteOldest(
        'wallet_webhook_inbox',
        'webhook_id',
        'received_at',
        ago(historyMs),
      );
      const commands = await deleteOldest('wallet_device_commands', 'id', 'acknowledged_at', ago(historyMs));
      // Idempotency-Keys have a two-column key: looked up, then deleted one by one.
      const oldKeys = await q.all<{ scope: string; idem_key: string }>(
        this.#db
          .selectFrom('wallet_idempotency')
          .select(['scope', 'idem_key'])
          .where('created_at', '<', ago(idempotencyMs))
          .orderBy('created_at')
          .limit(limit + 1)
          .compile(),
      );
      const doomed = oldKeys.slice(0, limit);
      for (const key of doomed)
        await q.run(
          this.#db
            .deleteFrom('wallet_idempotency')
            .where('scope', '=', key.scope)
            .where('idem_key', '=', key.idem_key)
            .compile(),
        );
      return {
        sessions,
        challenges,
        idempotencyKeys: doomed.length,
        webhooks,
        commands,
        more: [sessions, challenges, webhooks, commands].includes(limit) || oldKeys.length > limit,
      };
    });
  }

  // Attestation challenges

  async addChallenge(nonceHash: string, owner: Owner, purpose: string, expiresAt: string): Promise<void> {
    await this.transaction((q) =>
      q.run(
        this.#db
          .insertInto('wallet_challenges')
          .values({
            nonce_hash: nonceHash,
            tenant_id: owner.tenantId,
            user_id: owner.userId,
            purpose,
            expires_at: expiresAt,
          })
          .compile(),
      ),
    );
  }

  /** Deletes the challenge and says whether it was this owner's, for this purpose, and fresh (used once). */
  async consumeChallenge(nonceHash: string, owner: Owner, purpose: string): Promise<boolean> {
    return this.transaction(async (q) => {
      const rows = await q.all<{ tenant_id: string; user_id: string; purpose: string; expires_at: string }>(
        this.#db
          .selectFrom('wallet_challenges')
          .select(['tenant_id', 'user_id', 'purpose', 'expires_at'])
          .where('nonce_hash', '=', nonceHash)
          .compile(),
      );
      const r = rows[0];
      if (r === undefined) return false;
      await q.run(this.#db.deleteFrom('wallet_challenges').where('nonce_hash', '=', nonceHash).compile());
      return (
        r.tenant_id === owner.tenantId &&
        r.user_id === owner.userId &&
        r.purpose === purpose &&
        r.expires_at > this.#stamp()
      );
    });
  }

  // Devices

  /**
   * Pairs an attested device with a user: a new row, or a wiped device of this tenant re-bound
   * (resale). A device paired to someone and not wiped is refused (ERR_CONFLICT).
   */
  async pairDevice(
    device: Omit<Device, 'state' | 'stateVersion' | 'pairedAt' | 'updatedAt' | 'attestedAt'>,
  ): Promise<Device> {
    const at = this.#stamp();
    return this.transaction(async (q) => {
      const existing = await q.all<DeviceTable>(
        this.#db
          .selectFrom('wallet_devices')
          .selectAll()
          .where('tenant_id', '=', device.tenantId)
          .where('cert_fingerprint', '=', device.certFingerprint)
          .compile(),
      );
      const old = existing[0];
      if (old !== undefined) {
        if (old.state !== 'wiped')
          throw new WalletError('ERR_CONFLICT', undefined, { reason: 'device-paired' });
        await q.run(
          this.#db
            .updateTable('wallet_devices')
            .set({
              user_id: device.userId,
              state: 'active',
              state_version: Number(old.state_version) + 1,
              paired_at: at,
              attested_at: at,
              updated_at: at,
            })
            .where('id', '=', old.id)
            .compile(),
        );
        return deviceFrom({
          ...old,
          user_id: device.userId,
          state: 'active',
          state_version: Number(old.state_version) + 1,
          paired_at: at,
          attested_at: at,
          updated_at: at,
        });
      }
      const row: DeviceTable = {
        id: device.id,
        tenant_id: device.tenantId,
        user_id: device.userId,
        cert_serial: device.certSerial,
        cert_fingerprint: device.certFingerprint,
        chain: JSON.stringify(device.chain),
        model: device.model,
        oem_id: device.oemId,
        state: 'active',
        state_version: 1,
        paired_at: at,
        attested_at: at,
        updated_at: at,
      };
      await q.run(this.#db.insertInto('wallet_devices').values(row).compile());
      return deviceFrom(row);
    });
  }

  async getDevice(owner: Owner, deviceId: string): Promise<Device | undefined> {
    const rows = await this.#read.all<DeviceTable>(
      this.#prepared('getDevice', [owner.tenantId, owner.userId, deviceId], () =>
        this.#db
          .selectFrom('wallet_devices')
          .selectAll()
          .where('tenant_id', '=', owner.tenantId)
          .where('user_id', '=', owner.userId)
          .where('id', '=', deviceId)
          .compile(),
      ),
    );
    return rows[0] && deviceFrom(rows[0]);
  }

  /** A tenant's device whoever it is paired to (the OEM back office). */
  async getTenantDevice(tenantId: string, deviceId: string): Promise<Device | undefined> {
    const rows = await this.#read.all<DeviceTable>(
      this.#db
        .selectFrom('wallet_devices')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', deviceId)
        .compile(),
    );
    return rows[0] && deviceFrom(rows[0]);
  }

  async listDevices(owner: Owner): Promise<Device[]> {
    const rows = await this.#read.all<DeviceTable>(
      this.#db
        .selectFrom('wallet_devices')
        .selectAll()
        .where('tenant_id', '=', owner.tenantId)
        .where('user_id', '=', owner.userId)
        .orderBy('paired_at')
        .orderBy('id')
        .compile(),
    );
    return rows.map(deviceFrom);
  }

  /**
   * Moves a device to `to` if it is in `from` (compare-and-set on its state), and queues the
   * device commands in the same transaction. Returns undefined when the device is not the owner's
   * or not in `from`.
   */
  async transitionDevice(
    owner: Owner,
    deviceId: string,
    from: readonly DeviceState[],
    to: DeviceState,
    commands: readonly { id: string; kind: DeviceCommandKind; tokenReference: string | null }[],
    unpair = false,
  ): Promise<Device | undefined> {
    const at = this.#stamp();
    return this.transaction(async (q) => {
      const rows = await q.all<DeviceTable>(
        this.#db
          .selectFrom('wallet_devices')
          .selectAll()
          .where('tenant_id', '=', owner.tenantId)
          .where('user_id', '=', owner.userId)
          .where('id', '=', deviceId)
          .compile(),
      );
      const row = rows[0];
      if (row === undefined || !from.includes(row.state as DeviceState)) return undefined;
      const next: DeviceTable = {
        ...row,
        state: to,
        state_version: Number(row.state_version) + 1,
        updated_at: at,
        ...(unpair ? { user_id: null } : {}),
      };
      await q.run(
        this.#db
          .updateTable('wallet_devices')
          .set({
            state: next.state,
            state_version: next.state_version,
            updated_at: at,
            user_id: next.user_id,
          })
          .where('id', '=', deviceId)
          .where('state_version', '=', Number(row.state_version))
          .compile(),
      );
      for (const command of commands) {
        await q.run(
          this.#db
            .insertInto('wallet_device_commands')
            .values({
              id: command.id,
              tenant_id: owner.tenantId,
              device_id: deviceId,
              kind: command.kind,
              token_reference: command.tokenReference,
              created_at: at,
              acknowledged_at: null,
            })
            .compile(),
        );
      }
      return deviceFrom(next);
    });
  }

  async addDeviceCommand(
    tenantId: string,
    deviceId: string,
    command: { id: string; kind: DeviceCommandKind; tokenReference: string | null },
  ): Promise<void> {
    await this.transaction((q) =>
      q.run(
        this.#db
          .insertInto('wallet_device_commands')
          .values({
            id: command.id,
            tenant_id: tenantId,
            device_id: deviceId,
            kind: command.kind,
            token_reference: command.tokenReference,
            created_at: this.#stamp(),
            acknowledged_at: null,
          })
          .compile(),
      ),
    );
  }

  async pendingCommands(tenantId: string, deviceId: string): Promise<DeviceCommand[]> {
    const rows = await this.#read.all<{
      id: string;
      tenant_id: string;
      device_id: string;
      kind: string;
      token_reference: string | null;
      created_at: string;
      acknowledged_at: string | null;
    }>(
      this.#db
        .selectFrom('wallet_device_commands')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('device_id', '=', deviceId)
        .where('acknowledged_at', 'is', null)
        .orderBy('created_at')
        .orderBy('id')
        .compile(),
    );
    return rows.map((r) => ({
      id: r.id,
      tenantId: r.tenant_id,
      deviceId: r.device_id,
      kind: r.kind as DeviceCommandKind,
      tokenReference: r.token_reference,
      createdAt: r.created_at,
      acknowledgedAt: r.acknowledged_at,
    }));
  }

  async acknowledgeCommand(tenantId: string, deviceId: string, commandId: string): Promise<boolean> {
    const changed = await this.transaction((q) =>
      q.run(
        this.#db
          .updateTable('wallet_device_commands')
          .set({ acknowledged_at: this.#stamp() })
          .where('tenant_id', '=', tenantId)
          .where('device_id', '=', deviceId)
          .where('id', '=', commandId)
          .where('acknowledged_at', 'is', null)
          .compile(),
      ),
    );
    return changed === 1;
  }

  // Cards

  async addCard(card: Omit<Card, 'createdAt' | 'updatedAt' | 'isDefault'>): Promise<Card> {
    const at = this.#stamp();
    return this.#unique(() =>
      this.transaction(async (q) => {
        // The first card of a device becomes its default.
        const others = await q.all<{ id: string }>(
          this.#db
            .selectFrom('wallet_cards')
            .select('id')
            .where('device_id', '=', card.deviceId)
            .where('is_default', '=', 1)
            .compile(),
        );
        const isDefault = others.length === 0;
        await q.run(
          this.#db
            .insertInto('wallet_cards')
            .values({
              id: card.id,
              tenant_id: card.tenantId,
              user_id: card.userId,
              device_id: card.deviceId,
              token_reference: card.tokenReference,
              last4: card.last4,
              network: card.network,
              art_url: card.artUrl,
              issuer_name: card.issuerName,
              status: card.status,
              is_default: isDefault ? 1 : 0,
              tsp_status_version: card.tspStatusVersion,
              created_at: at,
              updated_at: at,
            })
            .compile(),
        );
        return { ...card, isDefault, createdAt: at, updatedAt: at };
      }),
    );
  }

  async getCard(owner: Owner, cardId: string): Promise<Card | undefined> {
    const rows = await this.#read.all<CardTable>(
      this.#prepared('getCard', [owner.tenantId, owner.userId, cardId, 'removed'], () =>
        this.#db
          .selectFrom('wallet_cards')
          .selectAll()
          .where('tenant_id', '=', owner.tenantId)
          .where('user_id', '=', owner.userId)
          .where('id', '=', cardId)
          .where('status', '!=', 'removed')
          .compile(),
      ),
    );
    return rows[0] && cardFrom(rows[0]);
  }

  /**
   * The owner's card and the state of its device, undefined when the device is no longer the
   * owner's: what the default switch checks, in one read instead of two.
   */
  async getCardWithDeviceState(
    owner: Owner,
    cardId: string,
  ): Promise<{ card: Card; deviceState: DeviceState | undefined } | undefined> {
    const rows = await this.#read.all<CardTable & { device_state: string | null }>(
      this.#prepared('getCardWithDeviceState', [owner.tenantId, owner.userId, cardId, 'removed'], () =>
        this.#db
          .selectFrom('wallet_cards as c')
          .leftJoin('wallet_devices as d', (join) =>
            join
              .onRef('d.id', '=', 'c.device_id')
              .onRef('d.tenant_id', '=', 'c.tenant_id')
              .onRef('d.user_id', '=', 'c.user_id'),
          )
          .selectAll('c')
          .select('d.state as device_state')
          .where('c.tenant_id', '=', owner.tenantId)
          .where('c.user_id', '=', owner.userId)
          .where('c.id', '=', cardId)
          .where('c.status', '!=', 'removed')
          .compile(),
      ),
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return {
      card: cardFrom(row),
      deviceState: row.device_state === null ? undefined : (row.device_state as DeviceState),
    };
  }

  async getCardByTokenReference(tokenReference: string): Promise<Card | undefined> {
    const rows = await this.#read.all<CardTable>(
      this.#db.selectFrom('wallet_cards').selectAll().where('token_reference', '=', tokenReference).compile(),
    );
    return rows[0] && cardFrom(rows[0]);
  }

  #cardListing(owner: Owner) {
    return this.#db
      .selectFrom('wallet_cards')
      .selectAll()
      .where('tenant_id', '=', owner.tenantId)
      .where('user_id', '=', owner.userId)
      .where('status', '!=', 'removed');
  }

  async listCards(owner: Owner, deviceId?: string): Promise<Card[]> {
    // Inline builders, built on the first call only (#prepared): no named closure per call here.
    const compiled =
      deviceId === undefined
        ? this.#prepared('listCards', [owner.tenantId, owner.userId, 'removed'], () =>
            this.#cardListing(owner).orderBy('created_at').orderBy('id').compile(),
          )
        : this.#prepared('listDeviceCards', [owner.tenantId, owner.userId, 'removed', deviceId], () =>
            this.#cardListing(owner)
              .where('device_id', '=', deviceId)
              .orderBy('created_at')
              .orderBy('id')
              .compile(),
          );
    const rows = await this.#read.all<CardTable>(compiled);
    return rows.map(cardFrom);
  }

  /** Every card of a device that still has a token at the TSP (not removed). */
  async deviceCards(tenantId: string, deviceId: string): Promise<Card[]> {
    const rows = await this.#read.all<CardTable>(
      this.#db
        .selectFrom('wallet_cards')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('device_id', '=', deviceId)
        .where('status', '!=', 'removed')
        .orderBy('created_at')
        .orderBy('id')
        .compile(),
    );
    return rows.map(cardFrom);
  }

  /** Sets the card's status, with the TSP's status version when it comes from the TSP. */
  async setCardStatus(cardId: string, status: CardStatus, tspStatusVersion?: number): Promise<void> {
    await this.transaction((q) =>
      q.run(
        this.#db
          .updateTable('wallet_cards')
          .set({
            status,
            updated_at: this.#stamp(),
            ...(tspStatusVersion === undefined ? {} : { tsp_status_version: tspStatusVersion }),
            ...(status === 'removed' ? { is_default: 0 } : {}),
          })
          .where('id', '=', cardId)
          .compile(),
      ),
    );
  }

  /** Sets every non-removed card of a device to `status` (lost, found, wipe). */
  async setDeviceCardsStatus(
    deviceId: string,
    from: readonly CardStatus[],
    status: CardStatus,
  ): Promise<void> {
    if (from.length === 0) return;
    await this.transaction((q) =>
      q.run(
        this.#db
          .updateTable('wallet_cards')
          .set({ status, updated_at: this.#stamp(), ...(status === 'removed' ? { is_default: 0 } : {}) })
          .where('device_id', '=', deviceId)
          .where('status', 'in', [...from])
          .compile(),
      ),
    );
  }

  /** Makes `card` its device's only default, and queues the set-default command, in one transaction. */
  async setDefaultCard(
    card: Card,
    commandId: string,
    inline?: InlineIdempotency & { readonly statusCode: number; readonly response: string },
  ): Promise<void> {
    const at = this.#stamp();
    await this.transaction(async (q) => {
      if (inline !== undefined) await this.#claimCompleted(q, inline, at);
      // The hot write path: each statement is compiled once (#prepared), only its values change.
      await q.run(
        this.#prepared('clearDefault', [0, at, card.deviceId, 1, card.id], () =>
          this.#db
            .updateTable('wallet_cards')
            .set({ is_default: 0, updated_at: at })
            .where('device_id', '=', card.deviceId)
            .where('is_default', '=', 1)
            .where('id', '!=', card.id)
            .compile(),
        ),
      );
      await q.run(
        this.#prepared('setDefault', [1, at, card.id], () =>
          this.#db
            .updateTable('wallet_cards')
            .set({ is_default: 1, updated_at: at })
            .where('id', '=', card.id)
            .compile(),
        ),
      );
      await q.run(
        this.#prepared(
          'queueSetDefault',
          [commandId, card.tenantId, card.deviceId, 'set-default', card.tokenReference, at, null],
          () =>
            this.#db
              .insertInto('wallet_device_commands')
              .values({
                id: commandId,
                tenant_id: card.tenantId,
                device_id: card.deviceId,
                kind: 'set-default',
                token_reference: card.tokenReference,
                created_at: at,
                acknowledged_at: null,
              })
              .compile(),
        ),
      );
    });
  }

  // Idempotency keys (the IETF Idempotency-Key header with Stripe's semantics)

  async beginIdempotent(scope: string, key: string, requestHash: string): Promise<IdempotencyBegin> {
    return this.transaction(async (q) => {
      const claimed = await q.run(
        this.#db
          .insertInto('wallet_idempotency')
          .values({
            scope,
            idem_key: key,
            request_hash: requestHash,
            state: 'pending',
            status_code: null,
            response: null,
            created_at: this.#stamp(),
          })
          .onConflict((oc) => oc.columns(['scope', 'idem_key']).doNothing())
          .compile(),
      );
      if (claimed === 1) return { kind: 'started' };
      const rows = await q.all<{
        request_hash: string;
        state: string;
        status_code: number | null;
        response: string | null;
      }>(
        this.#db
          .selectFrom('wallet_idempotency')
          .select(['request_hash', 'state', 'status_code', 'response'])
          .where('scope', '=', scope)
          .where('idem_key', '=', key)
          .compile(),
      );
      const row = rows[0];
      if (row === undefined) return { kind: 'in-progress' };
      if (row.request_hash !== requestHash) return { kind: 'conflict' };
      if (row.state !== 'done' || row.response === null || row.status_code === null)
        return { kind: 'in-progress' };
      return { kind: 'replay', statusCode: Number(row.status_code), response: row.response };
    });
  }

  /** Reads a key without claiming it: undefined when unused (the `inline` routes claim it with their work). */
  async peekIdempotent(
    scope: string,
    key: string,
    requestHash: string,
  ): Promise<IdempotencyBegin | undefined> {
    const rows = await this.#read.all<{
      request_hash: string;
      state: string;
      status_code: number | null;
      response: string | null;
    }>(
      this.#prepared('peekIdempotent', [scope, key], () =>
        this.#db
          .selectFrom('wallet_idempotency')
          .select(['request_hash', 'state', 'status_code', 'response'])
          .where('scope', '=', scope)
          .where('idem_key', '=', key)
          .compile(),
      ),
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    if (row.request_hash !== requestHash) return { kind: 'conflict' };
    if (row.state !== 'done' || row.response === null || row.status_code === null)
      return { kind: 'in-progress' };
    return { kind: 'replay', statusCode: Number(row.status_code), response: row.response };
  }

  /** Inserts a completed key inside the caller's transaction; a key taken meanwhile rolls the work back. */
  async #claimCompleted(
    q: Querier,
    inline: InlineIdempotency & { readonly statusCode: number; readonly response: string },
    at: string,
  ): Promise<void> {
    const values = {
      scope: inline.scope,
      idem_key: inline.key,
      request_hash: inline.requestHash,
      state: 'done',
      status_code: inline.statusCode,
      response: inline.response,
      created_at: at,
    };
    const claimed = await q.run(
      this.#prepared('claimCompleted', Object.values(values), () =>
        this.#db
          .insertInto('wallet_idempotency')
          .values(values)
          .onConflict((oc) => oc.columns(['scope', 'idem_key']).doNothing())
          .compile(),
      ),
    );
    if (claimed !== 1) throw new WalletError('ERR_IDEMPOTENCY_IN_PROGRESS');
  }

  async completeIdempotent(scope: string, key: string, statusCode: number, response: string): Promise<void> {
    await this.transaction((q) =>
      q.run(
        this.#db
          .updateTable('wallet_idempotency')
          .set({ state: 'done', status_code: statusCode, response })
          .where('scope', '=', scope)
          .where('idem_key', '=', key)
          .where('state', '=', 'pending')
          .compile(),
      ),
    );
  }

  async abandonIdempotent(scope: string, key: string): Promise<void> {
    await this.transaction((q) =>
      q.run(
        this.#db
          .deleteFrom('wallet_idempotency')
          .where('scope', '=', scope)
          .where('idem_key', '=', key)
          .where('state', '=', 'pending')
          .compile(),
      ),
    );
  }

  // Webhook inbox

  /**
   * Records a webhook id once and, in the same transaction, applies a status change to the card
   * only when the TSP's status version is newer than the card's (so events apply in order: an
   * older one arriving late changes nothing). Returns undefined for a webhook id seen before.
   */
  async applyWebhook(input: {
    webhookId: string;
    eventType: string;
    tokenReference: string | null;
    status?: { to: CardStatus; version: number };
  }): Promise<{ outcome: WebhookOutcome; card: Card | undefined } | undefined> {
    const at = this.#stamp();
    return this.transaction(async (q) => {
      const seen = await q.all<{ outcome: string }>(
        this.#db
          .selectFrom('wallet_webhook_inbox')
          .select('outcome')
          .where('webhook_id', '=', input.webhookId)
          .compile(),
      );
      if (seen.length > 0) return undefined;
      let outcome: WebhookOutcome = 'notified';
      let card: Card | undefined;
      if (input.tokenReference !== null) {
        const rows = await q.all<CardTable>(
          this.#db
            .selectFrom('wallet_cards')
            .selectAll()
            .where('token_reference', '=', input.tokenReference)
            .compile(),
        );
        card = rows[0] && cardFrom(rows[0]);
        if (card === undefined) outcome = 'unknown-token';
        else if (input.status !== undefined) {
          if (input.status.version <= card.tspStatusVersion || card.status === 'removed') outcome = 'stale';
          else {
            outcome = 'applied';
            await q.run(
              this.#db
                .updateTable('wallet_cards')
                .set({
                  status: input.status.to,
                  tsp_status_version: input.status.version,
                  updated_at: at,
                  ...(input.status.to === 'removed' ? { is_default: 0 } : {}),
                })
                .where('id', '=', card.id)
                .compile(),
            );
            card = {
              ...card,
              status: input.status.to,
              tspStatusVersion: input.status.version,
              updatedAt: at,
            };
          }
        }
      }
      await q.run(
        this.#db
          .insertInto('wallet_webhook_inbox')
          .values({
            webhook_id: input.webhookId,
            event_type: input.eventType,
            token_reference: input.tokenReference,
            outcome,
            received_at: at,
          })
          .compile(),
      );
      return { outcome, card };
    });
  }

  /** A stable snapshot of every table (tests compare it before and after refused requests). */
  async snapshot(): Promise<Record<string, unknown[]>> {
    const tables = [
      'wallet_tenants',
      'wallet_users',
      'wallet_devices',
      'wallet_cards',
      'wallet_device_commands',
      'wallet_webhook_inbox',
    ] as const;
    const out: Record<string, unknown[]> = {};
    for (const table of tables) {
      const rows = await this.#read.all<Record<string, unknown>>(
        this.#db.selectFrom(table).selectAll().compile(),
      );
      out[table] = rows
        .map((r) =>
          JSON.stringify(
            Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : String(v)])),
          ),
        )
        .sort();
    }
    return out;
  }
}
