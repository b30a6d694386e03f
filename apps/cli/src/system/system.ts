import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AcquirerHost, AcquirerStore } from '@amulet/acquirer';
import { randomPool, SoftwareHsm } from '@amulet/hsm';
import type { Iso8583Message } from '@amulet/iso8583';
import {
  ensureIssuerKeys,
  Issuer,
  type IssuerLogEntry,
  iso8583Codec as issuerCodec,
  listenIssuer,
} from '@amulet/issuer';
import { AdviceStore, interchangeCodec, MessageLog, NetworkSwitch, RoutingTable } from '@amulet/network';
import { createChainVerifier, fromPem, type ParsedCertificate, parseCertificate, toPem } from '@amulet/pki';
import { CertificateAuthority, runKeyCeremony } from '@amulet/root-of-trust';
import { memoryBlobStore, memoryCounter, type SeTransport } from '@amulet/secure-element';
import { type Engine, openPostgresEngine, openSqliteEngine, openStore, type Store } from '@amulet/store';
import { defaultKernelConfig, type KernelConfig, PosTerminal } from '@amulet/terminal';
import {
  Authorizer,
  buildHttpApi,
  fetchSender,
  Iso8583IdvGateway,
  Provisioner,
  startAuthorizationServer,
  TokenService,
  Webhooks,
} from '@amulet/token-service';
import { createTcpTransport, type TcpEndpoint, type TransportServer } from '@amulet/transport';
import { buildWalletApp, httpTspClient, WalletStore } from '@amulet/wallet';
import { Wearable } from '@amulet/wearable';
import type { FastifyInstance } from 'fastify';
import type { Trace } from '../demo/trace.ts';
import { buildLoader, LOADER_CERTIFICATE_FILE } from './provisioning.ts';
import { tracedClient } from './tracing.ts';

/** Where the parties keep their data: SQLite files in the data directory, or PostgreSQL databases. */
export type SystemStore =
  | { readonly kind: 'sqlite' }
  | {
      readonly kind: 'postgres';
      readonly host?: string;
      readonly port?: number;
      readonly user?: string;
      /** One database per party (each runs its own migrations, as in a distributed deployment). */
      readonly databases: {
        readonly tsp: string;
        readonly issuer: string;
        readonly acquirer: string;
        readonly network: string;
        readonly wallet: string;
      };
    };

export interface SystemOptions {
  readonly store: SystemStore;
  /** HSM keystores, the root of trust, SQLite files and the setup record live here. */
  readonly dataDir: string;
  readonly host?: string;
  /** The one HTTP port (wallet under /wallet, token service under /tsp); 0 for any. */
  readonly httpPort?: number;
  /** The acquirer's ISO 8583 port for terminals; 0 for any. */
  readonly isoPort?: number;
  readonly trace?: Trace;
  readonly now?: () => Date;
  readonly random?: (n: number) => Uint8Array;
  /**
   * How often the token service's webhook outbox and the issuer's event outbox are pumped; the
   * issuer's expired holds are released at most once a minute on the same beat.
   */
  readonly pumpIntervalMs?: number;
}

/** The demo tenant and parties' identifiers (no secrets). */
export const SETUP = {
  tenant: 'acme',
  oem: 'ACME',
  model: 'Band-3',
  trid: '40010030273',
  acquirerId: '123456',
  merchantId: 'MERCHANT000001',
  merchantNameLocation: 'AMULET CAFE             PARIS        FR',
  /** The issuer's BINs (real cards) and the token service's token BIN ranges (DPANs). */
  issuerBins: { visa: '401200', mastercard: '520000' },
  tokenRanges: {
    visa: { low: '48950000', high: '48959999' },
    mastercard: { low: '53990000', high: '53999999' },
  },
  pinPolicy: {
    sessionSeconds: 300,
    sessionTaps: 10,
    sessionAmountMinor: 100_000,
    wrongPinLimit: 5,
    pinLength: 4,
  },
} as const;

/** What the system remembers between runs of `amulet serve` (identifiers only). */
interface SetupRecord {
  /** The issuer's ISO 8583 port: the token service's issuer record names it. */
  issuerPort: number;
  walletTenantId: string;
  subscriptionId: string;
  operatorCredential: string;
}

export interface System {
  readonly now: () => Date;
  readonly random: (n: number) => Uint8Array;
  readonly trace: Trace | undefined;
  readonly rootOfTrust: {
    readonly ca: CertificateAuthority;
    readonly root: ParsedCertificate;
    readonly deviceCa: ParsedCertificate;
    /** Checks a device chain (device certificate first) against the root, as the loader and phone do. */
    trusts(chain: readonly Uint8Array[]): boolean;
    /** The root of trust's revocation answer for a certificate and its issuer. */
    revocation(serialHex: string, issuer: ParsedCertificate): 'good' | 'revoked' | 'unknown';
  };
  readonly tsp: {
    readonly service: TokenService;
    readonly provisioner: Provisioner;
    readonly authorizer: Authorizer;
    readonly webhooks: Webhooks;
  };
  readonly issuer: Issuer;
  /** The issuer's last log entries (PANs masked by the issuer), newest last. */
  readonly issuerLog: readonly IssuerLogEntry[];
  readonly network: NetworkSwitch;
  readonly acquirer: AcquirerHost;
  readonly wallet: { readonly app: FastifyInstance; readonly tenantId: string };
  /** http://host:port of the one HTTP port; the wallet is under /wallet, the token service under /tsp. */
  readonly httpUrl: string;
  readonly acquirerEndpoint: TcpEndpoint;
  /** Makes a wearable around a new secure element (memory-backed storage). */
  newWearable(): Wearable;
  /** A reader in the wearable's field. */
  nfc(wearable: Wearable): SeTransport;
  /** Registers a terminal of the demo merchant at the acquirer (once). */
  ensureTerminal(terminalId: string): Promise<void>;
  /** A POS terminal of the demo merchant connected to the acquirer over TCP. */
  terminal(terminalId: string, kernel?: Partial<KernelConfig>): Promise<PosTerminal & { close(): void }>;
  /** Delivers due webhooks (token service -> wallet) and issuer events (issuer -> token service). */
  pump(): Promise<void>;
  readonly ready: () => boolean;
  /** Stops taking work, waits for what is in flight, closes every party and store. */
  close(): Promise<void>;
}

const OPERATOR_BYTES = 24;

function storeOptions(options: SystemOptions, party: 'tsp' | 'issuer' | 'acquirer' | 'network' | 'wallet') {
  const s = options.store;
  if (s.kind === 'sqlite') return { kind: 'sqlite' as const, file: join(options.dataDir, `${party}.db`) };
  return {
    kind: 'postgres' as const,
    database: s.databases[party],
    ...(s.host === undefined ? {} : { host: s.host }),
    ...(s.port === undefined ? {} : { port: s.port }),
    ...(s.user === undefined ? {} : { user: s.user }),
  };
}

/** A demo master key for the software HSMs and the CA keystore, kept in the data directory (0600). */
function masterKeyOf(dataDir: string, random: (n: number) => Uint8Array): Uint8Array {
  const file = join(dataDir, 'master.key');
  if (existsSync(file)) return new Uint8Array(Buffer.from(readFileSync(file, 'utf8').trim(), 'hex'));
  const key = random(32);
  writeFileSync(file, `${Buffer.from(key).toString('hex')}\n`, { mode: 0o600 });
  return key;
}

async function hasKey(hsm: SoftwareHsm, keyId: string): Promise<boolean> {
  return hsm.getKey(keyId).then(
    () => true,
    () => false,
  );
}

/**
 * Builds every party in one process (DESIGN.md, "Running"): root of trust, token service (HSM,
 * vault, ID&V, provisioning, authorization), issuer, network, acquirer and wallet. Parties talk
 * their own protocols over loopback: ISO 8583 over TCP (acquirer -> network -> token service and
 * issuer; token service -> issuer for ID&V) and HTTP (wallet -> token service, phone -> wallet,
 * token service -> wallet webhooks), all on 127.0.0.1.
 */
export async function buildSystem(options: SystemOptions): Promise<System> {
  const now = options.now ?? (() => new Date());
  // The parties' randomness from a pool (one CSPRNG call per 4 KiB instead of one per draw); the
  // keystore's master key, drawn once, straight from the CSPRNG.
  const random = options.random ?? randomPool();
  const host = options.host ?? '127.0.0.1';
  const trace = options.trace;
  const world = { now, random };
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const masterKey = masterKeyOf(options.dataDir, options.random ?? ((n) => new Uint8Array(randomBytes(n))));
  const closers: (() => Promise<void> | void)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch {
        // Closing goes on: one party failing to close must not keep the others open.
      }
    }
  };

  try {
    // ---- Root of trust (software keystore): root, device CA of the tenant, service CA ----
    const caDir = join(options.dataDir, 'root-of-trust');
    if (!existsSync(join(caDir, 'state.json')))
      await runKeyCeremony({
        dir: caDir,
        masterKey,
        tenantId: SETUP.tenant,
        organization: 'Amulet Demo',
        rootCurve: 'P-256',
        now: now(),
      });
    const ca = CertificateAuthority.open({ dir: caDir, masterKey, clock: now });
    const root = parseCertificate(fromPem(readFileSync(join(caDir, 'root.pem'), 'utf8'), 'CERTIFICATE'));
    const deviceCa = ca.certificate('device-ca');
    const verifier = createChainVerifier({
      trustAnchors: [root.der],
      intermediates: [deviceCa.der],
      tenantId: SETUP.tenant,
    });
    const revocation = revocationOf(ca, root, deviceCa);
    const trusts = (chain: readonly Uint8Array[]): boolean => {
      try {
        return (
          verifier.verify({ chain, purpose: 'device', nowMs: now().getTime(), revocation }).status === 'valid'
        );
      } catch {
        return false;
      }
    };

    const setupFile = join(options.dataDir, 'setup.json');
    let setup: SetupRecord | undefined = existsSync(setupFile)
      ? (JSON.parse(readFileSync(setupFile, 'utf8')) as SetupRecord)
      : undefined;

    const issuerLog: IssuerLogEntry[] = [];
    // ---- Issuer: its own HSM and database, ISO 8583 over TCP ----
    const issuerHsm = await SoftwareHsm.open({ path: join(options.dataDir, 'issuer-hsm.json'), masterKey });
    closers.push(() => issuerHsm.close());
    const issuerStore = storeOptions(options, 'issuer');
    const issuerEngine: Engine =
      issuerStore.kind === 'sqlite'
        ? openSqliteEngine({ file: issuerStore.file })
        : await openPostgresEngine({ ...issuerStore, max: 8 });
    closers.push(() => issuerEngine.close());
    const issuer = await Issuer.open({
      engine: issuerEngine,
      hsm: issuerHsm,
      keys: await ensureIssuerKeys(issuerHsm),
      now,
      random,
      log: (entry) => {
        issuerLog.push(entry);
        if (issuerLog.length > 500) issuerLog.splice(0, issuerLog.length - 500);
      },
    });
    const issuerServer = await listenIssuer(issuer, createTcpTransport({ codec: issuerCodec }), {
      host,
      port: setup?.issuerPort ?? 0,
    });
    closers.push(() => issuerServer.close());
    const issuerEndpoint = `${host}:${issuerServer.endpoint.port}`;

    // ---- Token service: HSM keys, vault, ID&V to the issuer, provisioning, authorization ----
    const tspHsm = await SoftwareHsm.open({ path: join(options.dataDir, 'tsp-hsm.json'), masterKey });
    closers.push(() => tspHsm.close());
    for (const [keyId, input] of [
      ['vault-kek', { algorithm: 'aes', length: 32, usage: 'data-key-wrap' }],
      ['pan-lookup', { algorithm: 'aes', length: 32, usage: 'mac' }],
      ['tsp-jwe', { algorithm: 'ec-p256', usage: 'key-agreement' }],
      ['webhook-secrets', { algorithm: 'aes', length: 32, usage: 'mac' }],
      ['imk-visa', { algorithm: 'tdes', length: 16, usage: 'imk-ac' }],
      ['imk-mastercard', { algorithm: 'tdes', length: 16, usage: 'imk-ac' }],
    ] as const)
      if (!(await hasKey(tspHsm, keyId))) await tspHsm.generateKey({ keyId, ...input });
    const tspOptions = storeOptions(options, 'tsp');
    // On SQLite the token service's reads share one read snapshot per event-loop turn; its writes
    // (the ATC commit re-checks status and version) still see the latest commit (docs/store.md).
    const tspStore: Store = await openStore({
      ...tspOptions,
      ...(tspOptions.kind === 'sqlite' ? { sharedReadSnapshots: true } : {}),
      now,
    });
    closers.push(() => tspStore.close());
    const idv = new Iso8583IdvGateway(world, { institutionId: '99990001', timeoutMs: 5000 });
    closers.push(() => idv.close());
    const service = new TokenService({
      store: tspStore,
      hsm: tspHsm,
      world,
      keys: { kekId: 'vault-kek', lookupKeyId: 'pan-lookup', jweKeyId: 'tsp-jwe' },
      profiles: {
        visa: { imkKeyId: 'imk-visa', cvn: 18 },
        mastercard: { imkKeyId: 'imk-mastercard', cvn: 17 },
      },
      deviceTrust: { trustAnchors: [root.der], intermediates: [deviceCa.der], revokedSerials: [] },
      idv,
      binControllerId: 'A1B2',
    });
    if ((await tspStore.requestors.get(SETUP.trid)) === undefined) {
      await service.addRequestor({ trid: SETUP.trid, name: 'Acme Wallet', tenant: SETUP.tenant });
      await service.addBinRange({
        id: 'visa-tokens',
        network: 'visa',
        binLow: SETUP.tokenRanges.visa.low,
        binHigh: SETUP.tokenRanges.visa.high,
        tokenLength: 16,
      });
      await service.addBinRange({
        id: 'mastercard-tokens',
        network: 'mastercard',
        binLow: SETUP.tokenRanges.mastercard.low,
        binHigh: SETUP.tokenRanges.mastercard.high,
        tokenLength: 16,
      });
      await service.addIssuer({
        id: 'amulet-bank',
        name: 'Amulet Bank',
        idvEndpoint: issuerEndpoint,
        authEndpoint: issuerEndpoint,
        bins: [SETUP.issuerBins.visa, SETUP.issuerBins.mastercard],
      });
    }
    const loaderFile = join(options.dataDir, LOADER_CERTIFICATE_FILE);
    const deviceTrust = { trustAnchors: [root.der], intermediates: [deviceCa.der], revokedSerials: [] };
    const { loader, certificate } = await buildLoader({
      hsm: tspHsm,
      world,
      caDir,
      masterKey,
      serviceCa: ca.certificate('service-ca'),
      deviceTrust,
      ...(existsSync(loaderFile) ? { existingCertificate: new Uint8Array(readFileSync(loaderFile)) } : {}),
    });
    writeFileSync(loaderFile, certificate);
    const provisioner = new Provisioner({ service, loader });
    const authorizer = new Authorizer({ store: tspStore, hsm: tspHsm, cards: service.cards, world });
    const tspIso = await startAuthorizationServer(authorizer, { host, port: 0 });
    closers.push(() => tspIso.close());

    // ---- One HTTP port: wallet under /wallet, token service under /tsp, health ----
    let routes: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
    let accepting = true;
    const httpServer: Server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      if (path === '/readyz') {
        const ok = routes !== undefined && accepting;
        return void res
          .writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' })
          .end(ok ? 'ready\n' : 'not ready\n');
      }
      if (routes === undefined || !accepting)
        return void res.writeHead(503, { 'content-type': 'text/plain' }).end('not ready\n');
      routes(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(options.httpPort ?? 0, host, () => resolve());
    });
    let httpClosed: Promise<void> | undefined;
    const closeHttp = (): Promise<void> => {
      httpClosed ??= new Promise<void>((resolve) => {
        // Waits for the requests in flight; idle keep-alive connections end at once.
        httpServer.close(() => resolve());
        httpServer.closeIdleConnections();
      });
      return httpClosed;
    };
    closers.push(closeHttp);
    const httpPort = (httpServer.address() as AddressInfo).port;
    const httpUrl = `http://${host}:${httpPort}`;

    const webhooks = new Webhooks({
      store: tspStore,
      hsm: tspHsm,
      world,
      secretKeyId: 'webhook-secrets',
      // The subscription names the wallet's webhook path; the port is this run's.
      send: (_url, webhook) => fetchSender(`${httpUrl}/wallet/v1/webhooks/tsp`, webhook),
      retryDelayMs: 200,
      retryDelayMaxMs: 5000,
    });
    const tspApp = await buildHttpApi({ service, webhooks, provisioner });
    await tspApp.ready();
    closers.push(() => tspApp.close());

    let subscriptionId = setup?.subscriptionId;
    if (subscriptionId === undefined)
      subscriptionId = (
        await webhooks.subscribe({
          requestorTrid: SETUP.trid,
          url: 'http://127.0.0.1/wallet/v1/webhooks/tsp',
        })
      ).id;
    const operatorCredential =
      setup?.operatorCredential ?? Buffer.from(random(OPERATOR_BYTES)).toString('hex');

    const walletStore = await WalletStore.open(storeOptions(options, 'wallet'), now);
    closers.push(() => walletStore.close());
    const walletApp = await buildWalletApp({
      store: walletStore,
      tsp: httpTspClient({ baseUrl: `${httpUrl}/tsp` }),
      now,
      random,
      operatorCredential,
      webhookSecret: await webhooks.secretOf(subscriptionId),
    });
    await walletApp.ready();
    closers.push(() => walletApp.close());
    let walletTenantId = setup?.walletTenantId;
    if (walletTenantId === undefined) {
      const created = await walletApp.inject({
        method: 'POST',
        url: '/v1/tenants',
        headers: { authorization: `Bearer ${operatorCredential}` },
        payload: {
          name: SETUP.tenant,
          brand: {
            displayName: 'Acme',
            primaryColour: '#112233',
            accentColour: '#445566',
            logoUrl: 'https://acme.example/logo.png',
          },
          pinPolicy: SETUP.pinPolicy,
          allowedNetworks: ['visa', 'mastercard'],
          trid: SETUP.trid,
          pkiTenantId: SETUP.tenant,
          deviceCaPem: toPem('CERTIFICATE', deviceCa.der),
        },
      });
      if (created.statusCode !== 201)
        throw new Error(`the wallet refused the tenant (${created.statusCode})`);
      walletTenantId = String((created.json() as { tenant: { id: string } }).tenant.id);
      setup = { issuerPort: issuerServer.endpoint.port, walletTenantId, subscriptionId, operatorCredential };
      writeFileSync(setupFile, `${JSON.stringify(setup, null, 2)}\n`, { mode: 0o600 });
    }
    const prefixed: [string, FastifyInstance][] = [
      ['/wallet', walletApp],
      ['/tsp', tspApp],
    ];
    routes = (req, res) => {
      const url = req.url ?? '/';
      for (const [prefix, app] of prefixed)
        if (url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`)) {
          req.url = url.slice(prefix.length) || '/';
          app.routing(req, res);
          return;
        }
      res.writeHead(404, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404 }));
    };

    // ---- Network: token BINs to the token service, card BINs to the issuer, over TCP; its
    // stand-in advices kept in its own database until the issuer acknowledges them ----
    const adviceStore = await AdviceStore.open(storeOptions(options, 'network'), now);
    closers.push(() => adviceStore.close());
    const iso = createTcpTransport<Iso8583Message>({ codec: interchangeCodec });
    const reconnect = { reconnect: { initialDelayMs: 10, maxDelayMs: 200 } };
    const toTsp = iso.connect({ host, port: tspIso.endpoint.port }, reconnect);
    const toIssuer = iso.connect({ host, port: issuerServer.endpoint.port }, reconnect);
    closers.push(() => toTsp.close());
    closers.push(() => toIssuer.close());
    const network = new NetworkSwitch({
      routes: new RoutingTable([
        { ...SETUP.tokenRanges.visa, kind: 'token', destination: 'tsp' },
        { ...SETUP.tokenRanges.mastercard, kind: 'token', destination: 'tsp' },
        { low: SETUP.issuerBins.visa, high: SETUP.issuerBins.visa, kind: 'issuer', destination: 'issuer' },
        {
          low: SETUP.issuerBins.mastercard,
          high: SETUP.issuerBins.mastercard,
          kind: 'issuer',
          destination: 'issuer',
        },
      ]),
      peers: new Map([
        ['tsp', tracedClient(toTsp, trace, 'network', 'token-service')],
        ['issuer', tracedClient(toIssuer, trace, 'network', 'issuer')],
      ]),
      log: new MessageLog(),
      tokenServiceTimeoutMs: 3000,
      issuerTimeoutMs: 3000,
      reversalTimeoutMs: 1000,
      advice: { intervalMs: 500, maxAttempts: 20 },
      adviceStore,
    });
    closers.push(() => network.close());
    // What a previous run stood in for and could not tell the issuer: told now.
    await network.recover();
    const networkServer = await iso.listen({ handler: network.handle }, { host, port: 0 });
    closers.push(() => networkServer.close());

    // ---- Acquirer: its own database, the ISO 8583 port for terminals ----
    const acquirerStore = await AcquirerStore.open(storeOptions(options, 'acquirer'), now);
    closers.push(() => acquirerStore.close());
    const toNetwork = iso.connect({ host, port: networkServer.endpoint.port }, reconnect);
    closers.push(() => toNetwork.close());
    const acquirer = await AcquirerHost.start({
      store: acquirerStore,
      network: tracedClient(toNetwork, trace, 'acquirer', 'network'),
      acquiringInstitutionId: SETUP.acquirerId,
      networkTimeoutMs: 6000,
      reversal: { intervalMs: 1000, maxAttempts: 20 },
    });
    closers.push(() => acquirer.close());
    if (!(await acquirerStore.merchants()).some((m) => m.merchantId === SETUP.merchantId))
      await acquirer.addMerchant({
        merchantId: SETUP.merchantId,
        nameLocation: SETUP.merchantNameLocation,
        mcc: '5814',
      });
    const acquirerServer: TransportServer<Iso8583Message, TcpEndpoint> = await iso.listen(
      { handler: acquirer.handle },
      { host, port: options.isoPort ?? 0 },
    );
    closers.push(() => acquirerServer.close());
    await Promise.all([toTsp.connected(), toIssuer.connected(), toNetwork.connected()]);

    // ---- Outboxes: webhooks to the wallet, card reissues from the issuer to the token service ----
    let issuerSeq = 0;
    let pumping: Promise<void> | undefined;
    let sweptAt = 0;
    /**
     * What ends is cleared once a minute, each in batches until none is left (at most 1000): holds
     * older than the issuer's holdExpiryMs go back to the cardholder; Idempotency-Keys a day old,
     * the wallet's ended sessions, challenges and month-old history, webhook events a month old
     * and all delivered, and OTP messages whose code expired are deleted.
     */
    const sweeps: readonly (() => Promise<{ readonly more: boolean }>)[] = [
      () => issuer.expireHolds(),
      () => service.expireIdempotencyKeys(),
      () => walletStore.expire(),
      () => webhooks.expire(),
      () => issuer.otpOutbox.expire(),
    ];
    const pumpOnce = async (): Promise<void> => {
      for (let round = 0; round < 10 && (await webhooks.runDue()) > 0; round++);
      // Once a minute: the sweeps, and reversals and advices whose repeats ran out while a peer
      // was silent are sent again.
      if (Date.now() - sweptAt >= 60_000) {
        sweptAt = Date.now();
        for (const sweep of sweeps) {
          try {
            for (let round = 0; round < 1000 && (await sweep()).more; round++);
          } catch {
            // Tried again in a minute; one sweep failing holds back neither the others nor the
            // reversals below.
          }
        }
        await acquirer.resumeReversals();
        await network.recover();
      }
      for (const event of await issuer.events(issuerSeq)) {
        issuerSeq = Math.max(issuerSeq, event.seq);
        try {
          // DESIGN.md flow 9: the token service moves every token of the card to the new PAN.
          await service.updatePan({
            currentPan: event.oldPan,
            newPan: event.newPan,
            newExpiry: event.newExpiry,
            actor: 'issuer',
          });
        } catch (error) {
          // Already applied in an earlier run, or a card the token service never tokenized.
          if ((error as { code?: string }).code !== 'ERR_TSP_NOT_FOUND') throw error;
        }
      }
    };
    const pump = (): Promise<void> => {
      pumping = (pumping ?? Promise.resolve()).then(pumpOnce, pumpOnce);
      return pumping;
    };
    const timer = setInterval(() => {
      pump().catch(() => undefined);
    }, options.pumpIntervalMs ?? 250);
    timer.unref();
    closers.push(async () => {
      clearInterval(timer);
      await pumping?.catch(() => undefined);
    });

    const ensureTerminal = async (terminalId: string): Promise<void> => {
      if (!(await acquirerStore.terminals()).some((t) => t.terminalId === terminalId))
        await acquirer.addTerminal({ terminalId, merchantId: SETUP.merchantId });
    };
    const terminals: PosTerminal[] = [];
    closers.push(async () => {
      for (const t of terminals) await t.settled();
      await acquirer.settled();
      await network.settled();
    });

    let closing: Promise<void> | undefined;
    const system: System = {
      now,
      random,
      trace,
      rootOfTrust: { ca, root, deviceCa, trusts, revocation },
      tsp: { service, provisioner, authorizer, webhooks },
      issuer,
      issuerLog,
      network,
      acquirer,
      wallet: { app: walletApp, tenantId: walletTenantId },
      httpUrl,
      acquirerEndpoint: { host, port: acquirerServer.endpoint.port },
      newWearable() {
        const wearable = Wearable.open({
          deviceKey: random(32),
          rng: random,
          clock: () => now().getTime(),
          blobs: memoryBlobStore(),
          counter: memoryCounter(),
          // Card content changes need an SCP11a loader whose certificate leads to the root.
          oceTrustAnchors: [root.der],
        });
        if (trace !== undefined) {
          // Every APDU the SE answers: the terminal's through the field, and the loader's SCP11
          // session relayed by the wallet and the phone (wrapped, as the SE sees it).
          const se = wearable.se;
          const transmit = se.transmit.bind(se);
          se.transmit = (apdu: Uint8Array): Uint8Array => {
            const response = transmit(apdu);
            trace.apdu('wearable secure element', apdu, response);
            return response;
          };
        }
        return wearable;
      },
      nfc: (wearable) => wearable.nfc,
      ensureTerminal,
      async terminal(terminalId, kernel) {
        await ensureTerminal(terminalId);
        const client = iso.connect({ host, port: acquirerServer.endpoint.port }, reconnect);
        await client.connected();
        const terminal = new PosTerminal({
          identity: { terminalId, merchantId: SETUP.merchantId, merchantNameLocation: 'AMULET CAFE' },
          kernel: { ...defaultKernelConfig, ...kernel },
          acquirer: tracedClient(client, trace, 'terminal', 'acquirer'),
          now,
          random,
          firstStan: 1 + (random(2)[0] ?? 0) * 100,
          responseTimeoutMs: 8000,
          reversal: { intervalMs: 1000, maxAttempts: 20 },
        });
        terminals.push(terminal);
        closers.push(async () => {
          terminal.close();
          await client.close();
        });
        return terminal;
      },
      pump,
      ready: () => accepting,
      close() {
        closing ??= drainAndClose();
        return closing;
      },
    };
    async function drainAndClose(): Promise<void> {
      // Drain first (DESIGN.md invariant 4: nothing in flight is lost): no new work, the HTTP
      // requests and ISO 8583 handlers in flight finish, reversals and advices are delivered (an
      // advice the issuer leaves unanswered stays in the network's database for the next start);
      // then every party and store closes, the stores last among their users.
      accepting = false;
      clearInterval(timer);
      await closeHttp();
      await acquirerServer.close().catch(() => undefined);
      for (const t of terminals) await t.settled();
      await acquirer.settled();
      await network.settled();
      await pump().catch(() => undefined);
      await closeAll();
    }
    return system;
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * Revocation as the root of trust's own records say (its OCSP responder answers the same): a
 * device certificate by the device CA's records; the device CA itself is good while it is the
 * one this root of trust runs.
 */
function revocationOf(ca: CertificateAuthority, root: ParsedCertificate, deviceCa: ParsedCertificate) {
  return (serialHex: string, issuer: ParsedCertificate): 'good' | 'revoked' | 'unknown' => {
    if (issuer.serialHex === root.serialHex) return serialHex === deviceCa.serialHex ? 'good' : 'unknown';
    return ca.status('device-ca', serialHex).status;
  };
}
