import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unwrapKeyBlock } from '@amulet/emv';
import { type Hsm, SoftwareHsm } from '@amulet/hsm';
import { ensureIssuerKeys, Issuer, type IssuerLogEntry } from '@amulet/issuer';
import type { RuleSet } from '@amulet/risk';
import type { SecureElement } from '@amulet/secure-element';
import {
  type Engine,
  openPostgresEngine,
  openSqliteEngine,
  openStore,
  postgresConnectionDefaults,
  type Store,
} from '@amulet/store';
import { Authorizer, type IdvGateway, TokenService, type World } from '@amulet/token-service';
import { CompactEncrypt, importJWK } from 'jose';
import pg from 'pg';
import { certificate } from './device-pki.ts';
import { IssuerIdv } from './issuer-idv.ts';

export { IssuerIdv } from './issuer-idv.ts';
export {
  type IssuerAuthorization,
  issuerAuthorizations,
  issuerReleaseCounts,
  issuerReversals,
} from './issuer-tables.ts';

/**
 * The real token service and the real issuer, wired in process for the terminal's end-to-end
 * tests and for bench/authorize.ts: software HSMs, their own databases (SQLite files, or fresh
 * PostgreSQL databases dropped on close), a device PKI, and the card journey of DESIGN.md flow 4
 * reduced to what an authorization needs (card issued, tokenized with the issuer's ID&V, the SE
 * personalized with the ICC master key derived in the token service's HSM).
 */

export type Backend = 'sqlite' | 'postgres';

/** Visa-like and Mastercard-like token BIN ranges (EMVCo Payment Tokenisation 4.1), and the issuer's BINs. */
export const BINS = {
  visaToken: { low: '48950000', high: '48959999' },
  mastercardToken: { low: '53990000', high: '53999999' },
  visaCard: '401200',
  mastercardCard: '520000',
} as const;
export const TRID = '40010030273';
export const TENANT = 'tenant-rig';
export const CURRENCY = '978';

/** Transport key shared between the TSP's HSM and the rig's personalization (a TR-31 KBPK). */
const SE_TRANSPORT_KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + 3) & 0xff);

/** A database for one party: a SQLite file in `dir`, or a fresh PostgreSQL database. */
interface Database {
  readonly sqliteFile?: string;
  readonly postgres?: { host: string; port: number; user: string; database: string };
  drop(): Promise<void>;
}

async function database(backend: Backend, dir: string, name: string): Promise<Database> {
  if (backend === 'sqlite') return { sqliteFile: join(dir, `${name}.db`), drop: async () => undefined };
  const { host, port, user } = postgresConnectionDefaults();
  const db = `amulet_rig_${name}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ host, port, user, database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  return {
    postgres: { host, port, user, database: db },
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await admin.end();
    },
  };
}

export interface PartiesOptions {
  readonly backend?: Backend;
  readonly world: World;
  /** The issuer's risk rules; default its own defaults. */
  readonly issuerRules?: RuleSet;
  /** SQLite group commit for the token service and the issuer (default true). */
  readonly groupCommit?: boolean;
}

export interface Parties {
  readonly tsp: TokenService;
  readonly authorizer: Authorizer;
  readonly tspStore: Store;
  readonly issuer: Issuer;
  readonly issuerEngine: Engine;
  readonly issuerLog: IssuerLogEntry[];
  readonly dir: string;
  /** Issues a card on a new account, tokenizes it for the wearable and personalizes its SE. */
  addCard(input: AddCardInput & { readonly se: SecureElement }): Promise<RigToken>;
  /** The same without the SE: the personalization (with its TR-31 key block) goes to `personalize` elsewhere. */
  provisionCard(input: AddCardInput): Promise<ProvisionedCard>;
  close(): Promise<void>;
}

export interface AddCardInput {
  readonly deviceSerial: string;
  readonly network: 'visa' | 'mastercard';
  /** The applet id on the SE. */
  readonly appletId: string;
  readonly label: string;
  readonly openingBalanceMinor: number;
  /** Put the card on this account instead of a new one (a hot account). */
  readonly accountId?: string;
}

/** What the rig knows of a token: no key, and the real PAN only to check that nobody leaks it. */
export interface RigToken {
  readonly tokenId: string;
  readonly dpan: string;
  readonly realPan: string;
  readonly accountId: string;
  readonly cvn: 17 | 18;
  readonly appletId: string;
}

/** A provisioned token and what its applet needs; the key only inside a TR-31 key block. */
export interface ProvisionedCard {
  readonly token: RigToken;
  readonly personalization: {
    readonly keyBlock: string;
    /** YYMM. */
    readonly tokenExpiry: string;
    readonly psn: string;
    readonly label: string;
  };
}

/**
 * Direct personalization (the over-the-air path is tested in the token service): the key block
 * opened with the SE transport key on the SE side, and the applet installed through the SE's
 * host interface.
 */
export function personalize(se: SecureElement, card: ProvisionedCard): void {
  const { key } = unwrapKeyBlock({ kbpk: SE_TRANSPORT_KEY, keyBlock: card.personalization.keyBlock });
  se.install({
    id: card.token.appletId,
    profile: card.token.cvn === 17 ? 'mchip' : 'qvsdc',
    cvn: card.token.cvn,
    label: card.personalization.label,
    pan: card.token.dpan,
    expiry: `${card.personalization.tokenExpiry}28`,
    psn: card.personalization.psn,
    mkAc: key,
  });
  key.fill(0);
}

async function hsmIn(dir: string, name: string): Promise<Hsm> {
  return SoftwareHsm.open({
    path: join(dir, `${name}-keys.json`),
    masterKey: new Uint8Array(randomBytes(32)),
  });
}

/** A card as the issuer mails it to its holder. */
export interface IssuedCardData {
  readonly pan: string;
  /** YYMM. */
  readonly expiry: string;
  readonly accountId: string;
}

export interface IssuerSide {
  readonly issuer: Issuer;
  readonly engine: Engine;
  readonly log: IssuerLogEntry[];
  /** Opens an account (unless `accountId` names one) and issues a card on it. */
  issue(input: AddCardInput): Promise<IssuedCardData>;
  close(): Promise<void>;
}

async function closeAll(closers: (() => Promise<void>)[], drops: (() => Promise<void>)[]): Promise<void> {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  for (const drop of drops.splice(0)) await drop().catch(() => undefined);
}

/** The issuer host: its HSM, its database (migrated by Issuer.open), its ledger and rules. */
export async function openIssuerSide(
  options: PartiesOptions & { readonly dir: string },
): Promise<IssuerSide> {
  const closers: (() => Promise<void>)[] = [];
  const drops: (() => Promise<void>)[] = [];
  try {
    const hsm = await hsmIn(options.dir, 'issuer');
    closers.push(() => hsm.close());
    const db = await database(options.backend ?? 'sqlite', options.dir, 'issuer');
    drops.push(db.drop);
    const engine =
      db.sqliteFile !== undefined
        ? openSqliteEngine({ file: db.sqliteFile, groupCommit: options.groupCommit ?? true })
        : await openPostgresEngine({ ...db.postgres!, max: 12 });
    closers.push(() => engine.close());
    const log: IssuerLogEntry[] = [];
    const issuer = await Issuer.open({
      engine,
      hsm,
      keys: await ensureIssuerKeys(hsm),
      now: options.world.now,
      random: options.world.random,
      ...(options.issuerRules === undefined ? {} : { rules: options.issuerRules }),
      log: (entry) => {
        if (log.length < 10_000) log.push(entry);
      },
    });
    return {
      issuer,
      engine,
      log,
      issue: async (input) => {
        const accountId =
          input.accountId ??
          (
            await issuer.createAccount({
              cardholderId: `holder-${input.deviceSerial}-${input.appletId}`,
              currency: CURRENCY,
              openingBalanceMinor: input.openingBalanceMinor,
            })
          ).id;
        const card = await issuer.issueCard({
          accountId,
          bin: input.network === 'visa' ? BINS.visaCard : BINS.mastercardCard,
        });
        return { pan: card.pan, expiry: card.expiry, accountId };
      },
      close: () => closeAll(closers, drops),
    };
  } catch (error) {
    await closeAll(closers, drops);
    throw error;
  }
}

export interface TokenServiceSide {
  readonly tsp: TokenService;
  readonly authorizer: Authorizer;
  readonly store: Store;
  /** Tokenizes an issued card for the device (JWE, device chain, ID&V) and prepares its personalization. */
  tokenize(card: IssuedCardData, input: AddCardInput): Promise<ProvisionedCard>;
  close(): Promise<void>;
}

/** The token service: its HSM keys, vault, requestor, BIN ranges and a device PKI; ID&V through `idv`. */
export async function openTokenServiceSide(
  options: PartiesOptions & { readonly dir: string; readonly idv: IdvGateway },
): Promise<TokenServiceSide> {
  const world = options.world;
  const closers: (() => Promise<void>)[] = [];
  const drops: (() => Promise<void>)[] = [];
  try {
    // ---- Token service ----
    const tspHsm = await hsmIn(options.dir, 'tsp');
    closers.push(() => tspHsm.close());
    await tspHsm.generateKey({ keyId: 'vault-kek', algorithm: 'aes', length: 32, usage: 'data-key-wrap' });
    await tspHsm.generateKey({ keyId: 'pan-lookup', algorithm: 'aes', length: 32, usage: 'mac' });
    await tspHsm.generateKey({ keyId: 'tsp-jwe', algorithm: 'ec-p256', usage: 'key-agreement' });
    await tspHsm.generateKey({ keyId: 'imk-visa', algorithm: 'tdes', length: 16, usage: 'imk-ac' });
    await tspHsm.generateKey({ keyId: 'imk-mastercard', algorithm: 'tdes', length: 16, usage: 'imk-ac' });
    // A key ceremony of two components (ANSI X9.24-1): the SE transport key the rig shares.
    const half = new Uint8Array(randomBytes(32));
    await tspHsm.importKeyComponents({
      keyId: 'se-transport',
      algorithm: 'aes',
      usage: 'kek',
      components: [half, SE_TRANSPORT_KEY.map((b, i) => b ^ (half[i] ?? 0))],
    });
    const tspDb = await database(options.backend ?? 'sqlite', options.dir, 'tsp');
    drops.push(tspDb.drop);
    const tspStore =
      tspDb.sqliteFile !== undefined
        ? await openStore({
            kind: 'sqlite',
            file: tspDb.sqliteFile,
            groupCommit: options.groupCommit ?? true,
            sharedReadSnapshots: true,
            now: world.now,
          })
        : await openStore({ kind: 'postgres', ...tspDb.postgres!, max: 12, now: world.now });
    closers.push(() => tspStore.close());

    const now = world.now();
    const root = await certificate(
      { kind: 'root' },
      { organization: 'Amulet Rig', commonName: 'Rig Root' },
      now,
    );
    const deviceCa = await certificate(
      { kind: 'device-ca', tenantId: TENANT },
      { organization: 'Amulet Rig', commonName: 'Rig Device CA' },
      now,
      root,
    );
    const tsp = new TokenService({
      store: tspStore,
      hsm: tspHsm,
      world,
      keys: { kekId: 'vault-kek', lookupKeyId: 'pan-lookup', jweKeyId: 'tsp-jwe' },
      profiles: {
        visa: { imkKeyId: 'imk-visa', cvn: 18 },
        mastercard: { imkKeyId: 'imk-mastercard', cvn: 17 },
      },
      deviceTrust: { trustAnchors: [root.der], intermediates: [deviceCa.der] },
      idv: options.idv,
      binControllerId: 'R1G0',
    });
    await tsp.addRequestor({ trid: TRID, name: 'Rig Wallet', tenant: TENANT });
    await tsp.addBinRange({
      id: 'visa-rig',
      network: 'visa',
      binLow: BINS.visaToken.low,
      binHigh: BINS.visaToken.high,
      tokenLength: 16,
    });
    await tsp.addBinRange({
      id: 'mastercard-rig',
      network: 'mastercard',
      binLow: BINS.mastercardToken.low,
      binHigh: BINS.mastercardToken.high,
      tokenLength: 16,
    });
    await tsp.addIssuer({
      id: 'rig-bank',
      name: 'Rig Bank',
      idvEndpoint: 'in-process:0',
      authEndpoint: 'in-process:0',
      bins: [BINS.visaCard, BINS.mastercardCard],
    });
    const authorizer = new Authorizer({ store: tspStore, hsm: tspHsm, cards: tsp.cards, world });
    const jwk = await tsp.jwePublicKey();
    const jweKey = await importJWK(jwk, 'ECDH-ES+A256KW');
    const devices = new Map<string, Uint8Array[]>();

    const tokenize = async (card: IssuedCardData, input: AddCardInput): Promise<ProvisionedCard> => {
      let chain = devices.get(input.deviceSerial);
      if (chain === undefined) {
        const device = await certificate(
          {
            kind: 'device',
            attributes: { oemId: 'ACME', model: 'Rig Band', seType: 'embedded', tenantId: TENANT },
          },
          { organization: 'ACME', serialNumber: input.deviceSerial, commonName: 'Rig Band' },
          now,
          deviceCa,
        );
        chain = [device.der, deviceCa.der];
        devices.set(input.deviceSerial, chain);
      }
      const accountId = card.accountId;
      // What the companion app does (DESIGN.md flow 4): the card data encrypted to the TSP (RFC 7516).
      const encryptedCard = await new CompactEncrypt(
        new TextEncoder().encode(JSON.stringify({ pan: card.pan, expiry: card.expiry })),
      )
        .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: String(jwk.kid) })
        .encrypt(jweKey);
      const outcome = await tsp.tokenize({
        requestorTrid: TRID,
        encryptedCard,
        deviceCertificateChain: chain,
      });
      if (outcome.status !== 'provisioning')
        throw new Error(`tokenize ended ${outcome.status === 'declined' ? outcome.reason : outcome.status}`);
      const tokenId = outcome.token.tokenId;
      const token = await tspStore.vault.getToken(tokenId);
      const profile = await tspStore.cards.get(tokenId);
      if (token === undefined || profile === undefined) throw new Error('the token was not stored');
      // The ICC master key derived in the TSP's HSM (EMV Book 2 A1.4.1), leaving it only as a
      // TR-31 key block under the SE transport key.
      const keyId = `icc-${tokenId}`;
      await tspHsm.deriveIccMasterKey({
        imkId: profile.imkKeyId,
        pan: token.dpan,
        psn: profile.psn,
        keyId,
        exportable: true,
      });
      const keyBlock = await tspHsm.exportKey({ keyId, kekId: 'se-transport' });
      await tspHsm.deleteKey(keyId);
      if (!(await tspStore.cards.moveProvisioning(tokenId, ['pending'], 'confirmed')))
        throw new Error('the token was not waiting for provisioning');
      await tsp.activateProvisioned(tokenId);
      const cvn = profile.cvn as 17 | 18;
      return {
        token: { tokenId, dpan: token.dpan, realPan: card.pan, accountId, cvn, appletId: input.appletId },
        personalization: { keyBlock, tokenExpiry: token.tokenExpiry, psn: profile.psn, label: input.label },
      };
    };
    return {
      tsp,
      authorizer,
      store: tspStore,
      tokenize,
      close: () => closeAll(closers, drops),
    };
  } catch (error) {
    await closeAll(closers, drops);
    throw error;
  }
}

/** Opens the token service (vault, authorizer, HSM keys, BIN ranges) and the issuer (ledger, HSM). */
export async function openParties(options: PartiesOptions): Promise<Parties> {
  const dir = mkdtempSync(join(tmpdir(), 'amulet-parties-'));
  const closers: (() => Promise<void>)[] = [];
  try {
    const issuerSide = await openIssuerSide({ ...options, dir });
    closers.push(() => issuerSide.close());
    const idv = await IssuerIdv.inMemory(issuerSide.issuer, options.world);
    closers.push(() => idv.close());
    const tspSide = await openTokenServiceSide({ ...options, dir, idv });
    closers.push(() => tspSide.close());
    const provisionCard = async (input: AddCardInput): Promise<ProvisionedCard> =>
      tspSide.tokenize(await issuerSide.issue(input), input);
    return {
      tsp: tspSide.tsp,
      authorizer: tspSide.authorizer,
      tspStore: tspSide.store,
      issuer: issuerSide.issuer,
      issuerEngine: issuerSide.engine,
      issuerLog: issuerSide.log,
      dir,
      provisionCard,
      addCard: async (input) => {
        const provisioned = await provisionCard(input);
        personalize(input.se, provisioned);
        return provisioned.token;
      },
      close: async () => {
        await closeAll(closers, []);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await closeAll(closers, []);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
