import { createHash } from 'node:crypto';
import type { CompiledQuery, Kysely } from 'kysely';
import { type Engine, isUniqueViolation, type Querier } from './engine.ts';
import { StoreError } from './errors.ts';
import type { PanRecordTable, Schema, TokenTable } from './schema.ts';
import type {
  Actor,
  AtcCommitResult,
  AtcVerdict,
  AuditEntry,
  AuditVerification,
  DeviceBinding,
  IdempotencyBegin,
  IdempotencyRun,
  Issuer,
  PanRecord,
  StatusChange,
  TokenBinRange,
  TokenRecord,
  TokenRequestor,
  TokenStatus,
  Verdict,
  WrappedKeyRow,
} from './types.ts';

export type Clock = () => Date;

/** Shared plumbing: a repository is bound either to the engine (each write its own transaction) or to one transaction. */
export abstract class Repository {
  protected readonly db: Kysely<Schema>;
  constructor(
    protected readonly engine: Engine,
    protected readonly now: Clock,
    private readonly bound: Querier | undefined,
  ) {
    this.db = engine.db;
  }
  protected get reader(): Querier {
    return this.bound ?? this.engine.read;
  }
  protected tx<T>(fn: (q: Querier) => Promise<T>): Promise<T> {
    return this.bound === undefined ? this.engine.transaction(fn) : fn(this.bound);
  }
  protected get pg(): boolean {
    return this.engine.dialect === 'postgres';
  }
  protected stamp(): string {
    return this.now().toISOString();
  }
  /** `reusable` for this repository's dialect: the statement is built and compiled once. */
  protected compiled(key: string, build: () => CompiledQuery, parameters: readonly unknown[]): CompiledQuery {
    return reusable(this.engine.dialect, key, build, parameters);
  }

  /**
   * The end of an ATC commit once the mark was raised: an approval of a token that is not active,
   * or whose status changed since the authorization began, becomes a decline (invariant 6); then
   * the verdict row, keyed by token and ATC.
   */
  protected async recordVerdict(
    q: Querier,
    request: AtcCommitRequest,
    token: { readonly status: string; readonly status_version: number | string },
    previous: number,
  ): Promise<AtcCommitResult> {
    const statusVersion = Number(token.status_version);
    let verdict = request.verdict;
    let reasons = [...request.reasons];
    if (verdict === 'approved' && token.status !== 'active') {
      verdict = 'declined';
      reasons = ['TOKEN_NOT_ACTIVE'];
    } else if (
      verdict === 'approved' &&
      request.expectedStatusVersion !== undefined &&
      request.expectedStatusVersion !== statusVersion
    ) {
      verdict = 'declined';
      reasons = ['TOKEN_STATUS_CHANGED'];
    }
    // The primary key (token_id, atc) is the second guard: an ATC is recorded at most once.
    try {
      await q.run(
        reusable(
          this.engine.dialect,
          'atc.verdict',
          () =>
            this.db
              .insertInto('atc_verdicts')
              .values({ token_id: '', atc: 0, verdict: '', reasons: '', status_version: 0, at: '' })
              .compile(),
          [request.tokenId, request.atc, verdict, JSON.stringify(reasons), statusVersion, this.stamp()],
        ),
      );
    } catch (cause) {
      if (isUniqueViolation(cause))
        throw new StoreError('ERR_STORE_DUPLICATE', 'this ATC is already recorded', { cause });
      throw cause;
    }
    return { kind: 'recorded', verdict, reasons, statusVersion, previousHighWater: previous };
  }
}

export function check(ok: boolean, message: string): void {
  if (!ok) throw new StoreError('ERR_STORE_INPUT', message);
}

async function unique<T>(table: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (cause) {
    if (isUniqueViolation(cause))
      throw new StoreError('ERR_STORE_DUPLICATE', `a row in ${table} already has this unique value`, {
        cause,
      });
    throw cause;
  }
}

const bytes = (value: Uint8Array): Uint8Array => new Uint8Array(value);

const compiledQueries = new Map<string, CompiledQuery>();

/**
 * The hot path's statements are built and compiled by Kysely once per dialect, then reused with
 * new parameters (compiling costs tens of microseconds per call). `parameters` must be given in
 * the order the built query holds them; a count that differs is a bug and throws.
 */
export function reusable(
  dialect: string,
  key: string,
  build: () => CompiledQuery,
  parameters: readonly unknown[],
): CompiledQuery {
  const cacheKey = `${dialect}:${key}`;
  let compiled = compiledQueries.get(cacheKey);
  if (compiled === undefined) {
    compiled = build();
    compiledQueries.set(cacheKey, compiled);
  }
  if (compiled.parameters.length !== parameters.length)
    throw new StoreError('ERR_STORE_INPUT', `query ${key} takes ${compiled.parameters.length} parameters`);
  return { ...compiled, parameters };
}

export class RequestorRepository extends Repository {
  async add(input: Omit<TokenRequestor, 'createdAt'>): Promise<TokenRequestor> {
    check(/^\d{11}$/.test(input.trid), 'a token requestor ID has 11 digits');
    const row = { trid: input.trid, name: input.name, tenant: input.tenant, created_at: this.stamp() };
    await unique('token_requestors', () =>
      this.tx((q) => q.run(this.db.insertInto('token_requestors').values(row).compile())),
    );
    return { ...input, createdAt: row.created_at };
  }

  async get(trid: string): Promise<TokenRequestor | undefined> {
    const db = this.db;
    const rows = await this.reader.all<Schema['token_requestors']>(
      this.compiled(
        'requestors.get',
        () => db.selectFrom('token_requestors').selectAll().where('trid', '=', '').compile(),
        [trid],
      ),
    );
    const r = rows[0];
    return r && { trid: r.trid, name: r.name, tenant: r.tenant, createdAt: r.created_at };
  }

  async listByTenant(tenant: string): Promise<TokenRequestor[]> {
    const rows = await this.reader.all<Schema['token_requestors']>(
      this.db
        .selectFrom('token_requestors')
        .selectAll()
        .where('tenant', '=', tenant)
        .orderBy('trid')
        .compile(),
    );
    return rows.map((r) => ({ trid: r.trid, name: r.name, tenant: r.tenant, createdAt: r.created_at }));
  }
}

export class BinRangeRepository extends Repository {
  async add(range: TokenBinRange): Promise<TokenBinRange> {
    check(
      /^\d{6,11}$/.test(range.binLow) &&
        range.binLow.length === range.binHigh.length &&
        /^\d+$/.test(range.binHigh),
      'BIN bounds are digit strings of equal length (6 to 11)',
    );
    check(range.binLow <= range.binHigh, 'the low BIN bound is above the high one');
    check(
      Number.isInteger(range.tokenLength) && range.tokenLength >= 13 && range.tokenLength <= 19,
      'token length',
    );
    await unique('token_bin_ranges', () =>
      this.tx((q) =>
        q.run(
          this.db
            .insertInto('token_bin_ranges')
            .values({
              id: range.id,
              network: range.network,
              bin_low: range.binLow,
              bin_high: range.binHigh,
              token_length: range.tokenLength,
            })
            .compile(),
        ),
      ),
    );
    return range;
  }

  async listByNetwork(network: string): Promise<TokenBinRange[]> {
    const db = this.db;
    const rows = await this.reader.all<Schema['token_bin_ranges']>(
      this.compiled(
        'bin-ranges.by-network',
        () =>
          db
            .selectFrom('token_bin_ranges')
            .selectAll()
            .where('network', '=', '')
            .orderBy('bin_low')
            .compile(),
        [network],
      ),
    );
    return rows.map((r) => ({
      id: r.id,
      network: r.network,
      binLow: r.bin_low,
      binHigh: r.bin_high,
      tokenLength: Number(r.token_length),
    }));
  }
}

export class IssuerRepository extends Repository {
  async add(issuer: Issuer): Promise<Issuer> {
    for (const bin of issuer.bins) check(/^\d{6,11}$/.test(bin), 'an issuer BIN has 6 to 11 digits');
    await unique('issuers', () =>
      this.tx(async (q) => {
        await q.run(
          this.db
            .insertInto('issuers')
            .values({
              id: issuer.id,
              name: issuer.name,
              idv_endpoint: issuer.idvEndpoint,
              auth_endpoint: issuer.authEndpoint,
            })
            .compile(),
        );
        for (const bin of issuer.bins)
          await q.run(this.db.insertInto('issuer_bins').values({ bin, issuer_id: issuer.id }).compile());
      }),
    );
    return issuer;
  }

  async get(id: string): Promise<Issuer | undefined> {
    const db = this.db;
    const rows = await this.reader.all<Schema['issuers']>(
      this.compiled(
        'issuers.get',
        () => db.selectFrom('issuers').selectAll().where('id', '=', '').compile(),
        [id],
      ),
    );
    const r = rows[0];
    if (r === undefined) return undefined;
    const bins = await this.reader.all<{ bin: string }>(
      this.compiled(
        'issuers.bins-of',
        () => db.selectFrom('issuer_bins').select('bin').where('issuer_id', '=', '').orderBy('bin').compile(),
        [id],
      ),
    );
    return {
      id: r.id,
      name: r.name,
      idvEndpoint: r.idv_endpoint,
      authEndpoint: r.auth_endpoint,
      bins: bins.map((b) => b.bin),
    };
  }

  /** The issuer owning the longest BIN that prefixes `digits` (the caller passes a BIN, never a whole PAN). */
  async findByBin(digits: string): Promise<Issuer | undefined> {
    check(/^\d{6,11}$/.test(digits), 'a BIN lookup takes 6 to 11 digits');
    const prefixes: string[] = [];
    for (let n = 6; n <= digits.length; n++) prefixes.push(digits.slice(0, n));
    const db = this.db;
    // One compiled statement per number of prefixes (1 to 6).
    const rows = await this.reader.all<Schema['issuer_bins']>(
      this.compiled(
        `issuers.by-bin-${prefixes.length}`,
        () => db.selectFrom('issuer_bins').selectAll().where('bin', 'in', prefixes).compile(),
        prefixes,
      ),
    );
    const best = rows.sort((a, b) => b.bin.length - a.bin.length)[0];
    return best && this.get(best.issuer_id);
  }
}

export interface NewToken {
  readonly id: string;
  readonly dpan: string;
  readonly tokenExpiry: string;
  readonly status: TokenStatus;
  readonly requestorTrid: string;
  readonly panRecordId: string;
  readonly device: DeviceBinding;
  readonly domainControls: Readonly<Record<string, unknown>>;
  readonly assuranceMethod: string;
  /** Who caused the token to exist (recorded as the first status history row). */
  readonly actor: Actor;
}

export interface StatusRequest {
  readonly tokenId: string;
  readonly to: TokenStatus;
  readonly actor: Actor;
  readonly reason: string;
  /** Refuse the change unless the token is still at this version (optimistic concurrency). */
  readonly expectedVersion?: number;
}

export type StatusResult =
  | {
      readonly tokenId: string;
      readonly ok: true;
      readonly statusVersion: number;
      readonly from: TokenStatus;
    }
  | { readonly tokenId: string; readonly ok: false; readonly problem: 'not-found' | 'version-conflict' };

const statuses: readonly string[] = ['inactive', 'active', 'suspended', 'deleted'];

export function panRecordFromRow(r: PanRecordTable): PanRecord {
  return {
    id: r.id,
    panLookup: bytes(r.pan_lookup),
    panCiphertext: bytes(r.pan_ciphertext),
    wrappingKeyId: r.wrapping_key_id,
    wrappedDataKey: bytes(r.wrapped_data_key),
    par: r.par,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function tokenFromRow(r: TokenTable): TokenRecord {
  return {
    id: r.id,
    dpan: r.dpan,
    tokenExpiry: r.token_expiry,
    status: r.status as TokenStatus,
    statusVersion: Number(r.status_version),
    requestorTrid: r.requestor_trid,
    panRecordId: r.pan_record_id,
    device: { certificateSerial: r.device_cert_serial, certificateFingerprint: r.device_cert_fingerprint },
    domainControls: JSON.parse(r.domain_controls) as Record<string, unknown>,
    assuranceMethod: r.assurance_method,
    createdAt: r.created_at,
  };
}

/**
 * The token vault (EMVCo Payment Tokenisation): PAN records and tokens, status with history, and
 * what key rotation needs. Encryption is the caller's (the HSM's) job; this stores the results.
 */
export class VaultRepository extends Repository {
  async insertPanRecord(input: Omit<PanRecord, 'createdAt' | 'updatedAt'>): Promise<PanRecord> {
    check(/^[0-9A-Z]{29}$/.test(input.par), 'a PAR has 29 upper-case alphanumeric characters');
    check(input.panLookup.length >= 16, 'the PAN lookup value is a keyed hash of at least 16 bytes');
    const at = this.stamp();
    await unique('pan_records', () =>
      this.tx((q) =>
        q.run(
          this.compiled(
            'vault.insert-pan-record',
            () =>
              this.db
                .insertInto('pan_records')
                .values({
                  id: '',
                  pan_lookup: new Uint8Array(),
                  pan_ciphertext: new Uint8Array(),
                  wrapping_key_id: '',
                  wrapped_data_key: new Uint8Array(),
                  par: '',
                  created_at: '',
                  updated_at: '',
                })
                .compile(),
            [
              input.id,
              input.panLookup,
              input.panCiphertext,
              input.wrappingKeyId,
              input.wrappedDataKey,
              input.par,
              at,
              at,
            ],
          ),
        ),
      ),
    );
    return {
      ...input,
      panLookup: bytes(input.panLookup),
      panCiphertext: bytes(input.panCiphertext),
      wrappedDataKey: bytes(input.wrappedDataKey),
      createdAt: at,
      updatedAt: at,
    };
  }

  private async panRecordWhere(column: 'id' | 'pan_lookup' | 'par', value: string | Uint8Array) {
    const db = this.db;
    const rows = await this.reader.all<PanRecordTable>(
      this.compiled(
        `vault.pan-record-by-${column}`,
        () => db.selectFrom('pan_records').selectAll().where(column, '=', value).compile(),
        [value],
      ),
    );
    return rows[0] && panRecordFromRow(rows[0]);
  }

  getPanRecord(id: string): Promise<PanRecord | undefined> {
    return this.panRecordWhere('id', id);
  }
  findPanRecordByLookup(panLookup: Uint8Array): Promise<PanRecord | undefined> {
    return this.panRecordWhere('pan_lookup', panLookup);
  }
  findPanRecordByPar(par: string): Promise<PanRecord | undefined> {
    return this.panRecordWhere('par', par);
  }

  /** Issuer PAN update (card reissued): new ciphertext and lookup, same record, same PAR, same tokens. */
  async updatePan(
    id: string,
    update: Pick<PanRecord, 'panLookup' | 'panCiphertext' | 'wrappingKeyId' | 'wrappedDataKey'>,
  ): Promise<void> {
    const changed = await unique('pan_records', () =>
      this.tx((q) =>
        q.run(
          this.db
            .updateTable('pan_records')
            .set({
              pan_lookup: update.panLookup,
              pan_ciphertext: update.panCiphertext,
              wrapping_key_id: update.wrappingKeyId,
              wrapped_data_key: update.wrappedDataKey,
              updated_at: this.stamp(),
            })
            .where('id', '=', id)
            .compile(),
        ),
      ),
    );
    if (changed === 0) throw new StoreError('ERR_STORE_NOT_FOUND', 'no PAN record has this id');
  }

  async insertToken(input: NewToken): Promise<TokenRecord> {
    check(/^\d{13,19}$/.test(input.dpan), 'a DPAN has 13 to 19 digits');
    check(/^\d{4}$/.test(input.tokenExpiry), 'a token expiry is YYMM');
    check(statuses.includes(input.status), 'unknown token status');
    const at = this.stamp();
    const row: TokenTable = {
      id: input.id,
      dpan: input.dpan,
      token_expiry: input.tokenExpiry,
      status: input.status,
      status_version: 1,
      requestor_trid: input.requestorTrid,
      pan_record_id: input.panRecordId,
      device_cert_serial: input.device.certificateSerial,
      device_cert_fingerprint: input.device.certificateFingerprint,
      domain_controls: JSON.stringify(input.domainControls),
      assurance_method: input.assuranceMethod,
      created_at: at,
    };
    await unique('tokens', () =>
      this.tx(async (q) => {
        // The row's keys in the order of the TokenTable literal above: the compiled INSERT binds them so.
        await q.run(
          this.compiled(
            'vault.insert-token',
            () => this.db.insertInto('tokens').values(row).compile(),
            Object.values(row),
          ),
        );
        await q.run(
          this.compiled(
            'vault.insert-history',
            () =>
              this.db
                .insertInto('token_status_history')
                .values({
                  token_id: '',
                  status_version: 0,
                  from_status: '',
                  to_status: '',
                  actor: '',
                  reason: '',
                  at: '',
                })
                .compile(),
            [input.id, 1, 'none', input.status, input.actor, 'created', at],
          ),
        );
      }),
    );
    return tokenFromRow(row);
  }

  private async tokensWhere(
    column: 'tokens.id' | 'dpan' | 'device_cert_fingerprint' | 'requestor_trid' | 'pan_records.par',
    value: string,
  ): Promise<TokenRecord[]> {
    const db = this.db;
    const rows = await this.reader.all<TokenTable>(
      this.compiled(
        `vault.tokens-by-${column}`,
        () =>
          db
            .selectFrom('tokens')
            .innerJoin('pan_records', 'pan_records.id', 'tokens.pan_record_id')
            .selectAll('tokens')
            .where(column, '=', value)
            .orderBy('tokens.id')
            .compile(),
        [value],
      ),
    );
    return rows.map(tokenFromRow);
  }

  async getToken(id: string): Promise<TokenRecord | undefined> {
    return (await this.tokensWhere('tokens.id', id))[0];
  }
  async findTokenByDpan(dpan: string): Promise<TokenRecord | undefined> {
    return (await this.tokensWhere('dpan', dpan))[0];
  }
  findTokensByDevice(certificateFingerprint: string): Promise<TokenRecord[]> {
    return this.tokensWhere('device_cert_fingerprint', certificateFingerprint);
  }
  findTokensByPar(par: string): Promise<TokenRecord[]> {
    return this.tokensWhere('pan_records.par', par);
  }
  findTokensByRequestor(trid: string): Promise<TokenRecord[]> {
    return this.tokensWhere('requestor_trid', trid);
  }

  /**
   * Status changes for one or many tokens, all in one transaction. Each change bumps the token's
   * status version and appends a history row (from, to, actor, reason, at). Which transitions are
   * allowed is the token service's rule; the store records what it is told.
   */
  async changeStatus(requests: readonly StatusRequest[]): Promise<StatusResult[]> {
    for (const r of requests) check(statuses.includes(r.to), 'unknown token status');
    return this.tx(async (q) => {
      const at = this.stamp();
      const results: StatusResult[] = [];
      for (const r of requests) {
        const rows = await q.all<{ status: string; status_version: number }>(
          this.db
            .selectFrom('tokens')
            .select(['status', 'status_version'])
            .where('id', '=', r.tokenId)
            .compile(),
        );
        const current = rows[0];
        if (current === undefined) {
          results.push({ tokenId: r.tokenId, ok: false, problem: 'not-found' });
          continue;
        }
        const version = Number(current.status_version);
        if (r.expectedVersion !== undefined && r.expectedVersion !== version) {
          results.push({ tokenId: r.tokenId, ok: false, problem: 'version-conflict' });
          continue;
        }
        // The WHERE on the version makes a concurrent change (PostgreSQL, READ COMMITTED) lose cleanly.
        const changed = await q.run(
          this.db
            .updateTable('tokens')
            .set({ status: r.to, status_version: version + 1 })
            .where('id', '=', r.tokenId)
            .where('status_version', '=', version)
            .compile(),
        );
        if (changed === 0) {
          results.push({ tokenId: r.tokenId, ok: false, problem: 'version-conflict' });
          continue;
        }
        await q.run(
          this.db
            .insertInto('token_status_history')
            .values({
              token_id: r.tokenId,
              status_version: version + 1,
              from_status: current.status,
              to_status: r.to,
              actor: r.actor,
              reason: r.reason,
              at,
            })
            .compile(),
        );
        results.push({
          tokenId: r.tokenId,
          ok: true,
          statusVersion: version + 1,
          from: current.status as TokenStatus,
        });
      }
      return results;
    });
  }

  async statusHistory(tokenId: string): Promise<StatusChange[]> {
    const rows = await this.reader.all<Schema['token_status_history']>(
      this.db
        .selectFrom('token_status_history')
        .selectAll()
        .where('token_id', '=', tokenId)
        .orderBy('status_version')
        .compile(),
    );
    return rows.map((r) => ({
      tokenId: r.token_id,
      statusVersion: Number(r.status_version),
      from: r.from_status as TokenStatus | 'none',
      to: r.to_status as TokenStatus,
      actor: r.actor as Actor,
      reason: r.reason,
      at: r.at,
    }));
  }

  /** Key rotation, step 1: a page of records still wrapped under `wrappingKeyId`, in id order after `after`. */
  async listByWrappingKey(wrappingKeyId: string, limit: number, after = ''): Promise<WrappedKeyRow[]> {
    check(Number.isInteger(limit) && limit > 0, 'a page limit is a positive integer');
    const rows = await this.reader.all<PanRecordTable>(
      this.db
        .selectFrom('pan_records')
        .selectAll()
        .where('wrapping_key_id', '=', wrappingKeyId)
        .where('id', '>', after)
        .orderBy('id')
        .limit(limit)
        .compile(),
    );
    return rows.map((r) => ({
      id: r.id,
      wrappingKeyId: r.wrapping_key_id,
      wrappedDataKey: bytes(r.wrapped_data_key),
    }));
  }

  async countByWrappingKey(wrappingKeyId: string): Promise<number> {
    const rows = await this.reader.all<{ n: number | string }>(
      this.db
        .selectFrom('pan_records')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('wrapping_key_id', '=', wrappingKeyId)
        .compile(),
    );
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Key rotation, step 2: store re-wrapped data keys for a batch in one transaction. A row is
   * updated only if it is still under `fromKeyId` (compare-and-set), so a concurrent rotation or
   * PAN update is never overwritten; returns how many rows changed. The PAN ciphertext is untouched.
   */
  async rewrap(
    updates: readonly { id: string; fromKeyId: string; toKeyId: string; wrappedDataKey: Uint8Array }[],
  ): Promise<number> {
    return this.tx(async (q) => {
      let changed = 0;
      const at = this.stamp();
      for (const u of updates) {
        changed += await q.run(
          this.db
            .updateTable('pan_records')
            .set({ wrapping_key_id: u.toKeyId, wrapped_data_key: u.wrappedDataKey, updated_at: at })
            .where('id', '=', u.id)
            .where('wrapping_key_id', '=', u.fromKeyId)
            .compile(),
        );
      }
      return changed;
    });
  }
}

export interface AtcCommitRequest {
  readonly tokenId: string;
  /** The application transaction counter from the cryptogram's data (EMV Book 2 8.1.1; tag 9F36). */
  readonly atc: number;
  readonly verdict: Verdict;
  readonly reasons: readonly string[];
  /** The status version the caller saw when the authorization began; a newer one turns an approval into a decline. */
  readonly expectedStatusVersion?: number;
}

/**
 * ATC high-water marks and verdicts (DESIGN invariants 5 and 6). `commit` is the one atomic step
 * of an authorization: in a single transaction it reads the token's status, refuses an ATC at or
 * below the high-water mark (or already recorded), raises the mark and stores the verdict.
 */
export class AtcRepository extends Repository {
  async highWater(tokenId: string): Promise<number | undefined> {
    const rows = await this.reader.all<{ high_water: number }>(
      this.db.selectFrom('atc_marks').select('high_water').where('token_id', '=', tokenId).compile(),
    );
    return rows[0] === undefined ? undefined : Number(rows[0].high_water);
  }

  /**
   * Three statements, each compiled once per dialect: the status, version and current mark in one
   * read; the mark created or raised by one upsert whose `WHERE high_water < atc` is the
   * compare-and-set (no row changed: a replay, nothing written); then the verdict.
   */
  async commit(request: AtcCommitRequest): Promise<AtcCommitResult> {
    check(Number.isInteger(request.atc) && request.atc >= 0 && request.atc <= 0xffff, 'an ATC is 0 to 65535');
    const d = this.engine.dialect;
    const db = this.db;
    const pg = this.pg;
    return this.tx(async (q) => {
      // Status first, in the same transaction. On PostgreSQL FOR SHARE (of the token row) waits for
      // an uncommitted suspension and blocks a new one until this commits, so the two are ordered;
      // on SQLite the single writer orders them.
      const token = (
        await q.all<{ status: string; status_version: number; high_water: number | null }>(
          reusable(
            d,
            'atc.status-and-mark',
            () => {
              const query = db
                .selectFrom('tokens')
                .leftJoin('atc_marks', 'atc_marks.token_id', 'tokens.id')
                .select(['tokens.status', 'tokens.status_version', 'atc_marks.high_water'])
                .where('tokens.id', '=', '');
              return (pg ? query.forShare('tokens') : query).compile();
            },
            [request.tokenId],
          ),
        )
      )[0];
      if (token === undefined) throw new StoreError('ERR_STORE_NOT_FOUND', 'no token has this id');
      const previous = token.high_water === null ? -1 : Number(token.high_water);
      // Compare-and-set: a racing copy waits on the row lock (PostgreSQL: on the conflicting insert
      // or the row) and then sees the new mark, so it changes nothing.
      const raised = await q.run(
        reusable(
          d,
          'atc.raise',
          () =>
            db
              .insertInto('atc_marks')
              .values({ token_id: '', high_water: 0 })
              .onConflict((oc) =>
                oc
                  .column('token_id')
                  .doUpdateSet({ high_water: (eb) => eb.ref('excluded.high_water') })
                  .where('atc_marks.high_water', '<', (eb) => eb.ref('excluded.high_water')),
              )
              .compile(),
          [request.tokenId, request.atc],
        ),
      );
      if (raised === 0) {
        const mark = await q.all<{ high_water: number }>(
          reusable(
            d,
            'atc.read-mark',
            () => db.selectFrom('atc_marks').select('high_water').where('token_id', '=', '').compile(),
            [request.tokenId],
          ),
        );
        return { kind: 'replay', highWater: Number(mark[0]?.high_water ?? -1) };
      }
      return this.recordVerdict(q, request, token, previous);
    });
  }

  /**
   * The verdict recorded for one ATC of a token, or undefined: what the token service checks
   * before it detokenizes a reversal (docs/token-service.md, "Reversals").
   */
  async verdict(tokenId: string, atc: number): Promise<AtcVerdict | undefined> {
    if (!Number.isInteger(atc) || atc < 0 || atc > 0xffff) return undefined;
    const rows = await this.reader.all<Schema['atc_verdicts']>(
      this.db
        .selectFrom('atc_verdicts')
        .selectAll()
        .where('token_id', '=', tokenId)
        .where('atc', '=', atc)
        .compile(),
    );
    return rows[0] === undefined ? undefined : verdictOf(rows[0]);
  }

  async verdicts(tokenId: string): Promise<AtcVerdict[]> {
    const rows = await this.reader.all<Schema['atc_verdicts']>(
      this.db.selectFrom('atc_verdicts').selectAll().where('token_id', '=', tokenId).orderBy('atc').compile(),
    );
    return rows.map(verdictOf);
  }
}

function verdictOf(r: Schema['atc_verdicts']): AtcVerdict {
  return {
    tokenId: r.token_id,
    atc: Number(r.atc),
    verdict: r.verdict as Verdict,
    reasons: JSON.parse(r.reasons) as string[],
    statusVersion: Number(r.status_version),
    at: r.at,
  };
}

/**
 * Idempotency keys with Stripe's semantics (and the IETF Idempotency-Key header draft): the first
 * use of a key claims it; the same key with the same request hash gets the stored response; with
 * another hash, a conflict; while the first use is still running, `in-progress`.
 */
export class IdempotencyRepository extends Repository {
  async begin(scope: string, key: string, requestHash: string): Promise<IdempotencyBegin> {
    return this.tx(async (q) => {
      const claimed = await q.run(
        this.db
          .insertInto('idempotency_keys')
          .values({
            scope,
            idem_key: key,
            request_hash: requestHash,
            state: 'pending',
            response: null,
            created_at: this.stamp(),
          })
          .onConflict((oc) => oc.columns(['scope', 'idem_key']).doNothing())
          .compile(),
      );
      if (claimed === 1) return { kind: 'started' };
      const rows = await q.all<Schema['idempotency_keys']>(
        this.db
          .selectFrom('idempotency_keys')
          .selectAll()
          .where('scope', '=', scope)
          .where('idem_key', '=', key)
          .compile(),
      );
      const row = rows[0];
      if (row === undefined) return { kind: 'in-progress' };
      if (row.request_hash !== requestHash) return { kind: 'conflict' };
      if (row.state !== 'done' || row.response === null) return { kind: 'in-progress' };
      return { kind: 'replay', response: JSON.parse(row.response) as unknown };
    });
  }

  async complete(scope: string, key: string, response: unknown): Promise<void> {
    const changed = await this.tx((q) =>
      q.run(
        this.db
          .updateTable('idempotency_keys')
          .set({ state: 'done', response: JSON.stringify(response) })
          .where('scope', '=', scope)
          .where('idem_key', '=', key)
          .where('state', '=', 'pending')
          .compile(),
      ),
    );
    if (changed === 0) throw new StoreError('ERR_STORE_NOT_FOUND', 'no pending idempotency key to complete');
  }

  /**
   * Deletes the keys first used before `before`, oldest first, at most `limit` in one
   * transaction; `more` says whether older ones are left. A key used again after its deletion
   * starts anew, as in Stripe's semantics, where keys are kept for at least 24 hours.
   */
  async expire(before: Date, limit = 100): Promise<{ readonly removed: number; readonly more: boolean }> {
    const cutoff = before.toISOString();
    return this.tx(async (q) => {
      const oldest = await q.all<{ scope: string; idem_key: string }>(
        this.db
          .selectFrom('idempotency_keys')
          .select(['scope', 'idem_key'])
          .where('created_at', '<', cutoff)
          .orderBy('created_at')
          .limit(limit + 1)
          .compile(),
      );
      const doomed = oldest.slice(0, limit);
      for (const row of doomed) {
        await q.run(
          this.db
            .deleteFrom('idempotency_keys')
            .where('scope', '=', row.scope)
            .where('idem_key', '=', row.idem_key)
            .compile(),
        );
      }
      return { removed: doomed.length, more: oldest.length > limit };
    });
  }

  /** Releases a claimed key whose work failed, so a retry may run it again. */
  async abandon(scope: string, key: string): Promise<void> {
    await this.tx((q) =>
      q.run(
        this.db
          .deleteFrom('idempotency_keys')
          .where('scope', '=', scope)
          .where('idem_key', '=', key)
          .where('state', '=', 'pending')
          .compile(),
      ),
    );
  }

  /** begin, then run `work` only if this call claimed the key, then complete (or abandon on error). */
  async run<T>(
    scope: string,
    key: string,
    requestHash: string,
    work: () => Promise<T>,
  ): Promise<IdempotencyRun<T>> {
    const begun = await this.begin(scope, key, requestHash);
    if (begun.kind !== 'started') return begun;
    let response: T;
    try {
      response = await work();
    } catch (error) {
      await this.abandon(scope, key);
      throw error;
    }
    await this.complete(scope, key, response);
    return { kind: 'executed', response };
  }
}

export const auditGenesis = '0'.repeat(64);

/** SHA-256 over an unambiguous encoding (a JSON array) of the entry and the previous entry's hash. */
export function auditHash(entry: Omit<AuditEntry, 'hash'>): string {
  const body = JSON.stringify([
    entry.seq,
    entry.at,
    entry.actor,
    entry.action,
    entry.subject,
    entry.details,
    entry.prevHash,
  ]);
  return createHash('sha256').update(body).digest('hex');
}

/**
 * The append-only audit log (DESIGN invariant 10). Each entry's hash covers its sequence number,
 * content and the previous entry's hash, so changing, removing or reordering a row breaks the chain.
 * Removing the newest rows is only detectable against a head hash kept elsewhere (`verify` returns it).
 */
export class AuditRepository extends Repository {
  async append(input: {
    actor: string;
    action: string;
    subject: string;
    details?: Readonly<Record<string, unknown>>;
  }): Promise<AuditEntry> {
    return this.tx(async (q) => {
      // One appender at a time on PostgreSQL; SQLite has one writer already.
      if (this.pg) await q.exec('SELECT pg_advisory_xact_lock(7406212)');
      const db = this.db;
      const last = await q.all<{ seq: number; hash: string }>(
        this.compiled(
          'audit.head',
          () => db.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).compile(),
          [1],
        ),
      );
      const head = last[0];
      const unhashed = {
        seq: head === undefined ? 1 : Number(head.seq) + 1,
        at: this.stamp(),
        actor: input.actor,
        action: input.action,
        subject: input.subject,
        details: input.details ?? {},
        prevHash: head?.hash ?? auditGenesis,
      };
      const entry: AuditEntry = { ...unhashed, hash: auditHash(unhashed) };
      await q.run(
        this.compiled(
          'audit.append',
          () =>
            db
              .insertInto('audit_log')
              .values({
                seq: 0,
                at: '',
                actor: '',
                action: '',
                subject: '',
                details: '',
                prev_hash: '',
                hash: '',
              })
              .compile(),
          [
            entry.seq,
            entry.at,
            entry.actor,
            entry.action,
            entry.subject,
            JSON.stringify(entry.details),
            entry.prevHash,
            entry.hash,
          ],
        ),
      );
      return entry;
    });
  }

  async list(afterSeq = 0, limit = 1000): Promise<AuditEntry[]> {
    const rows = await this.reader.all<Schema['audit_log']>(
      this.db
        .selectFrom('audit_log')
        .selectAll()
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .compile(),
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      at: r.at,
      actor: r.actor,
      action: r.action,
      subject: r.subject,
      details: JSON.parse(r.details) as Record<string, unknown>,
      prevHash: r.prev_hash,
      hash: r.hash,
    }));
  }

  /** Walks the whole chain in pages; reports the first broken entry. */
  async verify(): Promise<AuditVerification> {
    let expectedSeq = 1;
    let prev = auditGenesis;
    for (;;) {
      const page = await this.list(expectedSeq - 1, 1000);
      if (page.length === 0) break;
      for (const e of page) {
        if (e.seq !== expectedSeq) return { ok: false, seq: expectedSeq, problem: 'sequence' };
        if (e.prevHash !== prev) return { ok: false, seq: e.seq, problem: 'link' };
        const { hash, ...rest } = e;
        if (auditHash(rest) !== hash) return { ok: false, seq: e.seq, problem: 'hash' };
        prev = hash;
        expectedSeq++;
      }
    }
    return { ok: true, count: expectedSeq - 1, head: prev };
  }
}
