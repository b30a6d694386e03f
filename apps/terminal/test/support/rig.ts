import { AcquirerHost, AcquirerStore, type AcquirerStoreOptions } from '@amulet/acquirer';
import type { Iso8583Message } from '@amulet/iso8583';
import {
  iso8583Codec as issuerCodec,
  issuerMessageHandler,
  type LedgerCheck,
  listenIssuer,
} from '@amulet/issuer';
import {
  AdviceStore,
  type AdviceStoreOptions,
  interchangeCodec,
  MessageLog,
  NetworkSwitch,
  type NetworkSwitchOptions,
  RoutingTable,
  type StandInLimit,
} from '@amulet/network';
import type { RuleSet } from '@amulet/risk';
import { inProcessTransport, memoryBlobStore, memoryCounter, SecureElement } from '@amulet/secure-element';
import { postgresConnectionDefaults } from '@amulet/store';
import { authorizationHandler, startAuthorizationServer } from '@amulet/token-service';
import {
  createMemoryTransport,
  createTcpTransport,
  type Faults,
  type MessageHandler,
  type TransportClient,
} from '@amulet/transport';
import { defaultKernelConfig, type KernelConfig, PosTerminal } from '../../src/index.ts';
import {
  type Backend,
  BINS,
  type IssuerAuthorization,
  issuerAuthorizations,
  issuerReleaseCounts,
  issuerReversals,
  openParties,
  type Parties,
  type RigToken,
} from './parties.ts';
import { seededBytes } from './wearable.ts';

export interface RigOptions {
  readonly seed?: number;
  /** Hops: in-memory transports (default; faults apply) or loopback TCP (the services' own servers). */
  readonly transport?: 'memory' | 'tcp';
  /** Faults on every in-memory hop, both directions. */
  readonly faults?: Faults;
  /** Where the token service, the issuer and the acquirer keep their data. */
  readonly backend?: Backend;
  readonly wearables?: number;
  readonly kernel?: Partial<KernelConfig>;
  readonly standIn?: readonly StandInLimit[];
  readonly timeouts?: { terminal?: number; acquirer?: number; network?: number; retry?: number };
  readonly issuerRules?: RuleSet;
  /** The switch's `maxRoutes` (default its own, 100 000). */
  readonly maxRoutes?: number;
}

export interface RigWearable {
  readonly se: SecureElement;
  readonly terminal: PosTerminal;
  /** card-0: Visa-like qVSDC (CVN 18); card-1: Mastercard-like M/Chip (CVN 17). */
  readonly cards: readonly RigToken[];
  tap(amount: number): ReturnType<PosTerminal['tap']>;
}

/**
 * The link in front of the issuer (in-memory hops only): a cut or slow cable, never a change to
 * what the issuer decides. `received` lists the MTIs that reached the link.
 */
export interface IssuerLink {
  silent: (message: Iso8583Message) => boolean;
  delayMs: (message: Iso8583Message) => number;
  readonly received: string[];
}

export interface Rig {
  readonly wearables: readonly RigWearable[];
  readonly acquirer: AcquirerHost;
  readonly store: AcquirerStore;
  readonly network: NetworkSwitch;
  /**
   * A new switch behind the same port, as after a restart: the old one's connections closed, every
   * route and remembered issuer gone; the new one recovers the advices the old one kept. Resolves
   * with how many it found.
   */
  restartNetwork(): Promise<number>;
  readonly log: MessageLog;
  readonly parties: Parties;
  readonly tokens: readonly RigToken[];
  readonly issuerLink: IssuerLink;
  readonly dir: string;
  readonly openingBalance: number;
  /** The issuer's authorizations by transaction key, read from its database. */
  issuerAuthorizations(): Promise<Map<string, IssuerAuthorization>>;
  issuerReversals(): Promise<Map<string, string>>;
  /** Release postings per issuer authorization id. */
  issuerReleaseCounts(): Promise<Map<string, number>>;
  /** The issuer's available balance of a token's account. */
  available(token: RigToken): Promise<number>;
  ledger(): Promise<LedgerCheck>;
  /** Waits for every reversal and advice in the system to be acknowledged. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export const ACQUIRER_ID = '123456';
export const OPENING_BALANCE = 100_000_000;
export const MERCHANT_ID = 'MERCHANT000001';
/** The date every party sees (fields 7, 12, 13, 9A; token and card expiry checks). */
export const RIG_TIME = Date.UTC(2026, 11, 3, 9, 30, 0);

/** The network's routing: token BIN ranges to the token service, real BINs to the issuer. */
export function rigRoutes(): RoutingTable {
  return new RoutingTable([
    { ...BINS.visaToken, kind: 'token', destination: 'tsp' },
    { ...BINS.mastercardToken, kind: 'token', destination: 'tsp' },
    { low: BINS.visaCard, high: BINS.visaCard, kind: 'issuer', destination: 'issuer' },
    { low: BINS.mastercardCard, high: BINS.mastercardCard, kind: 'issuer', destination: 'issuer' },
  ]);
}

/** A database of its own for the acquirer or the network: a SQLite file in `dir`, or a new PostgreSQL one. */
async function serviceStoreOptions(
  backend: Backend,
  dir: string,
  service: 'acquirer' | 'network',
): Promise<{
  options: AcquirerStoreOptions & AdviceStoreOptions;
  drop: () => Promise<void>;
}> {
  if (backend === 'sqlite')
    return { options: { kind: 'sqlite', file: `${dir}/${service}.db` }, drop: async () => {} };
  const pg = (await import('pg')).default;
  const { host, port, user } = postgresConnectionDefaults();
  const database = `amulet_rig_${service}_${Math.random().toString(16).slice(2, 12)}`;
  const admin = new pg.Client({ host, port, user, database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  return {
    options: { kind: 'postgres', host, port, user, database },
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    },
  };
}

interface Hop {
  listen(handler: MessageHandler<Iso8583Message>): Promise<{ close(): Promise<void> }>;
  connect(): TransportClient<Iso8583Message>;
}

/**
 * The whole authorization path in one process (DESIGN.md flow 5): wearables (secure elements) ->
 * terminals -> acquirer -> network -> the real token service (Authorizer) and the real issuer
 * (issuerMessageHandler, its ledger and risk rules). Each hop is its own transport: in memory with
 * the same seeded faults on every hop, or loopback TCP with the services' own servers.
 */
export async function buildRig(options: RigOptions = {}): Promise<Rig> {
  const clock = { ms: RIG_TIME };
  const parties = await openParties({
    backend: options.backend ?? 'sqlite',
    world: { now: () => new Date(clock.ms), random: seededBytes(`world-${options.seed ?? 1}`) },
    ...(options.issuerRules === undefined ? {} : { issuerRules: options.issuerRules }),
  });
  try {
    return await assembleRig(options, parties, clock);
  } catch (error) {
    await parties.close();
    throw error;
  }
}

async function assembleRig(options: RigOptions, parties: Parties, clock: { ms: number }): Promise<Rig> {
  const seed = options.seed ?? 1;
  const faults = options.faults ?? {};
  const backend = options.backend ?? 'sqlite';
  const closers: (() => Promise<void> | void)[] = [];
  const reconnect = { reconnect: { initialDelayMs: 5, maxDelayMs: 20 } };
  const memoryHop = (offset: number): Hop => {
    const transport = createMemoryTransport<Iso8583Message>({
      codec: interchangeCodec,
      seed: seed * 16 + offset,
      toServer: faults,
      toClient: faults,
    });
    const name = `hop-${offset}`;
    return {
      listen: (handler) => transport.listen({ handler }, { name }),
      connect: () => transport.connect({ name }, reconnect),
    };
  };
  const tcpHop = (): Hop => {
    const transport = createTcpTransport<Iso8583Message>({ codec: interchangeCodec });
    let port = 0;
    return {
      listen: async (handler) => {
        const server = await transport.listen(
          { handler, maxHandlersInFlight: 512 },
          { host: '127.0.0.1', port: 0 },
        );
        port = server.endpoint.port;
        return server;
      },
      connect: () => transport.connect({ host: '127.0.0.1', port }, reconnect),
    };
  };
  const tcp = options.transport === 'tcp';
  const hop = (offset: number) => (tcp ? tcpHop() : memoryHop(offset));
  const retry = options.timeouts?.retry ?? 100;
  const clients: TransportClient<Iso8583Message>[] = [];

  // ---- Token service and issuer, behind their ISO 8583 ports ----
  const issuerLink: IssuerLink = { silent: () => false, delayMs: () => 0, received: [] };
  // The network's connections to them: made again for each switch (restartNetwork).
  let connectPeers: () => [TransportClient<Iso8583Message>, TransportClient<Iso8583Message>];
  if (tcp) {
    const tspServer = await startAuthorizationServer(parties.authorizer);
    closers.push(() => tspServer.close());
    const issuerServer = await listenIssuer(
      parties.issuer,
      createTcpTransport({ codec: issuerCodec }),
      { host: '127.0.0.1', port: 0 },
      { maxHandlersInFlight: 512 },
    );
    closers.push(() => issuerServer.close());
    const toPeers = createTcpTransport<Iso8583Message>({ codec: interchangeCodec });
    connectPeers = () => [
      toPeers.connect(tspServer.endpoint, reconnect),
      toPeers.connect(issuerServer.endpoint, reconnect),
    ];
  } else {
    const tspHop = hop(3);
    const issuerHop = hop(4);
    const tspServer = await tspHop.listen(authorizationHandler(parties.authorizer));
    const handleIssuer = issuerMessageHandler(parties.issuer);
    const issuerServer = await issuerHop.listen(async (message, context) => {
      issuerLink.received.push(message.mti);
      if (issuerLink.silent(message)) return undefined;
      const delay = issuerLink.delayMs(message);
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      return handleIssuer(message, context);
    });
    closers.push(
      () => tspServer.close(),
      () => issuerServer.close(),
    );
    connectPeers = () => [tspHop.connect(), issuerHop.connect()];
  }

  // ---- Network, its advices kept in a database of its own ----
  const log = new MessageLog();
  const networkDb = await serviceStoreOptions(backend, parties.dir, 'network');
  const adviceStore = await AdviceStore.open(networkDb.options);
  closers.push(async () => {
    await adviceStore.close();
    await networkDb.drop();
  });
  let peerClients = connectPeers();
  const networkOptions = (): NetworkSwitchOptions => ({
    routes: rigRoutes(),
    peers: new Map([
      ['tsp', peerClients[0]],
      ['issuer', peerClients[1]],
    ]),
    adviceStore,
    log,
    tokenServiceTimeoutMs: options.timeouts?.network ?? 150,
    issuerTimeoutMs: options.timeouts?.network ?? 150,
    reversalTimeoutMs: retry,
    standIn: { limits: options.standIn ?? [] },
    advice: { intervalMs: retry, maxAttempts: 10_000 },
    ...(options.maxRoutes === undefined ? {} : { maxRoutes: options.maxRoutes }),
  });
  let network = new NetworkSwitch(networkOptions());
  const networkHop = hop(2);
  // Through `network` as it is now: restartNetwork puts a new switch behind the same port.
  const networkServer = await networkHop.listen((message) => network.handle(message));
  closers.push(() => networkServer.close());
  const networkClient = networkHop.connect();
  clients.push(networkClient);

  // ---- Acquirer ----
  const acquirerDb = await serviceStoreOptions(backend, parties.dir, 'acquirer');
  const store = await AcquirerStore.open(acquirerDb.options);
  const acquirer = await AcquirerHost.start({
    store,
    network: networkClient,
    acquiringInstitutionId: ACQUIRER_ID,
    networkTimeoutMs: options.timeouts?.acquirer ?? 400,
    reversal: { intervalMs: retry, maxAttempts: 10_000 },
  });
  await acquirer.addMerchant({
    merchantId: MERCHANT_ID,
    nameLocation: 'AMULET CAFE             PARIS        FR',
    mcc: '5814',
  });
  const terminalHop = hop(1);
  const acquirerServer = await terminalHop.listen(acquirer.handle);
  closers.push(() => acquirerServer.close());

  // ---- Wearables: cards issued, tokenized and personalized; one terminal each ----
  const kernel: KernelConfig = { ...defaultKernelConfig, ...options.kernel };
  const wearables: RigWearable[] = [];
  const tokens: RigToken[] = [];
  for (let w = 0; w < (options.wearables ?? 1); w++) {
    const terminalId = `T${String(w).padStart(7, '0')}`;
    await acquirer.addTerminal({ terminalId, merchantId: MERCHANT_ID });
    const seClock = { ms: 1_000_000 };
    const se = SecureElement.open({
      deviceKey: new Uint8Array(32).fill(w + 1),
      rng: seededBytes(`se-${seed}-${w}`),
      clock: () => seClock.ms,
      blobs: memoryBlobStore(),
      counter: memoryCounter(),
    });
    const deviceSerial = `RIG-${seed}-${w}`;
    const cards = [
      await parties.addCard({
        se,
        deviceSerial,
        network: 'visa',
        appletId: 'card-0',
        label: 'RIG VISA',
        openingBalanceMinor: OPENING_BALANCE,
      }),
      await parties.addCard({
        se,
        deviceSerial,
        network: 'mastercard',
        appletId: 'card-1',
        label: 'RIG MC',
        openingBalanceMinor: OPENING_BALANCE,
      }),
    ];
    se.setDefault('card-0');
    se.enrollPin('1234');
    tokens.push(...cards);
    const acquirerClient = terminalHop.connect();
    clients.push(acquirerClient);
    const terminal = new PosTerminal({
      identity: { terminalId, merchantId: MERCHANT_ID, merchantNameLocation: 'AMULET CAFE' },
      kernel,
      acquirer: acquirerClient,
      now: () => new Date(clock.ms + w * 1000),
      random: seededBytes(`terminal-${seed}-${w}`),
      firstStan: 1,
      responseTimeoutMs: options.timeouts?.terminal ?? 800,
      reversal: { intervalMs: retry, maxAttempts: 10_000 },
    });
    const transport = inProcessTransport(se);
    wearables.push({ se, terminal, cards, tap: (amount) => terminal.tap(transport, amount) });
  }
  await Promise.all([...clients, ...peerClients].map((c) => c.connected()));

  return {
    wearables,
    acquirer,
    store,
    get network() {
      return network;
    },
    async restartNetwork() {
      network.close();
      await Promise.all(peerClients.map((c) => c.close()));
      peerClients = connectPeers();
      await Promise.all(peerClients.map((c) => c.connected()));
      network = new NetworkSwitch(networkOptions());
      return network.recover();
    },
    log,
    parties,
    tokens,
    issuerLink,
    dir: parties.dir,
    openingBalance: OPENING_BALANCE,
    issuerAuthorizations: () => issuerAuthorizations(parties.issuerEngine),
    issuerReversals: () => issuerReversals(parties.issuerEngine),
    issuerReleaseCounts: () => issuerReleaseCounts(parties.issuerEngine),
    available: async (token) => (await parties.issuer.account(token.accountId)).availableMinor,
    ledger: () => parties.issuer.checkLedger(),
    async settle() {
      for (let round = 0; round < 3; round++) {
        await Promise.all(wearables.map((w) => w.terminal.settled()));
        await acquirer.settled();
        await network.settled();
      }
    },
    async close() {
      for (const w of wearables) w.terminal.close();
      acquirer.close();
      network.close();
      await Promise.all([...clients, ...peerClients].map((c) => c.close()));
      for (const close of closers.reverse()) await close();
      await store.close();
      await acquirerDb.drop();
      await parties.close();
    },
  };
}
