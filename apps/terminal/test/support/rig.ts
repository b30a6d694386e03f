import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AcquirerHost, AcquirerStore, type AcquirerStoreOptions } from '@amulet/acquirer';
import { fromHex } from '@amulet/bytes';
import { luhnCheckDigit } from '@amulet/emv';
import type { Iso8583Message } from '@amulet/iso8583';
import {
  interchangeCodec,
  MessageLog,
  NetworkSwitch,
  RoutingTable,
  type StandInLimit,
} from '@amulet/network';
import { SandboxIssuer, type SandboxToken, SandboxTokenService } from '@amulet/network/sandbox';
import { inProcessTransport, memoryBlobStore, memoryCounter, SecureElement } from '@amulet/secure-element';
import {
  createMemoryTransport,
  type Faults,
  type TransportClient,
  type TransportServer,
} from '@amulet/transport';
import { defaultKernelConfig, type KernelConfig, PosTerminal } from '../../src/index.ts';
import { seededBytes } from './wearable.ts';

export const withLuhn = (digits: string): string => digits + luhnCheckDigit(digits);

/** The sandbox cards' published keys (docs/secure-element.md), reused for every rig token. */
const keys = {
  18: { profile: 'qvsdc' as const, imk: fromHex('0123456789ABCDEFFEDCBA9876543210') },
  17: { profile: 'mchip' as const, imk: fromHex('89ABCDEF0123456776543210FEDCBA98') },
  22: { profile: 'qvsdc' as const, imk: fromHex('000102030405060708090A0B0C0D0E0F') },
};

export interface RigCard {
  readonly dpan: string;
  readonly realPan: string;
  readonly cvn: 17 | 18 | 22;
}

/** Card `i` of wearable `w`: DPANs in the token ranges, real PANs in the issuers' ranges. */
export function rigCard(w: number, i: number, cvn: 17 | 18 | 22): RigCard {
  const serial = `${String(w).padStart(3, '0')}${i}`;
  return cvn === 17
    ? { dpan: withLuhn(`54133300${serial}000`), realPan: withLuhn(`52000000${serial}000`), cvn }
    : {
        dpan: withLuhn(`47617390${serial}00${cvn === 22 ? 2 : 0}`),
        realPan: withLuhn(`40120000${serial}00${cvn === 22 ? 2 : 0}`),
        cvn,
      };
}

export interface RigOptions {
  readonly seed?: number;
  /** Faults on every hop, both directions. */
  readonly faults?: Faults;
  readonly wearables?: number;
  readonly kernel?: Partial<KernelConfig>;
  readonly standIn?: readonly StandInLimit[];
  readonly timeouts?: { terminal?: number; acquirer?: number; network?: number; retry?: number };
  /** Where the acquirer keeps its data; default a SQLite file in a temporary directory. */
  readonly store?: AcquirerStoreOptions;
}

export interface RigWearable {
  readonly se: SecureElement;
  readonly terminal: PosTerminal;
  readonly cards: readonly RigCard[];
  tap(amount: number): ReturnType<PosTerminal['tap']>;
}

export interface Rig {
  readonly wearables: readonly RigWearable[];
  readonly acquirer: AcquirerHost;
  readonly store: AcquirerStore;
  readonly network: NetworkSwitch;
  readonly log: MessageLog;
  readonly tsp: SandboxTokenService;
  readonly issuer: SandboxIssuer;
  readonly tokens: readonly SandboxToken[];
  readonly dir: string;
  /** Waits for every reversal and advice in the system to be acknowledged. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export const ACQUIRER_ID = '123456';
export const OPENING_BALANCE = 100_000_000;

/**
 * The whole authorization path in one process over in-memory ISO 8583 transports: wearables
 * (secure elements) -> terminals -> acquirer (SQLite) -> network -> sandbox token service and
 * sandbox issuer. Each hop is its own transport, with the same seeded faults.
 */
export async function buildRig(options: RigOptions = {}): Promise<Rig> {
  const seed = options.seed ?? 1;
  const faults = options.faults ?? {};
  const transport = (offset: number) =>
    createMemoryTransport<Iso8583Message>({
      codec: interchangeCodec,
      seed: seed * 16 + offset,
      toServer: faults,
      toClient: faults,
    });
  const hops = { terminal: transport(1), network: transport(2), tsp: transport(3), issuer: transport(4) };
  const retry = options.timeouts?.retry ?? 100;
  const servers: TransportServer<Iso8583Message, { name: string }>[] = [];
  const clients: TransportClient<Iso8583Message>[] = [];

  const wearableCount = options.wearables ?? 1;
  const tokens: SandboxToken[] = [];
  const cardsOf: RigCard[][] = [];
  for (let w = 0; w < wearableCount; w++) {
    const cards = [rigCard(w, 0, 18), rigCard(w, 1, 17), rigCard(w, 2, 22)];
    cardsOf.push(cards);
    for (const card of cards)
      tokens.push({
        dpan: card.dpan,
        realPan: card.realPan,
        realExpiry: '3105',
        cvn: card.cvn,
        psn: '00',
        imk: keys[card.cvn].imk,
        tokenReference: `TREF${card.dpan.slice(-8)}`,
        par: `Q1J4AWSCC2PAR${card.realPan.slice(-8)}ABCDEFGH`,
        requestorId: '40010030273',
        deviceId: `DEV${w}`,
        status: 'active',
      });
  }
  const tsp = new SandboxTokenService(tokens);
  const issuer = new SandboxIssuer();
  for (const token of tokens) issuer.open(token.realPan, OPENING_BALANCE);
  servers.push(await hops.tsp.listen({ handler: tsp.handle }, { name: 'tsp' }));
  servers.push(await hops.issuer.listen({ handler: issuer.handle }, { name: 'issuer' }));
  const tspClient = hops.tsp.connect({ name: 'tsp' }, { reconnect: { initialDelayMs: 5, maxDelayMs: 20 } });
  const issuerClient = hops.issuer.connect(
    { name: 'issuer' },
    { reconnect: { initialDelayMs: 5, maxDelayMs: 20 } },
  );
  clients.push(tspClient, issuerClient);

  const log = new MessageLog();
  const network = new NetworkSwitch({
    routes: new RoutingTable([
      { low: '476173900', high: '476173909', kind: 'token', destination: 'tsp' },
      { low: '541333000', high: '541333009', kind: 'token', destination: 'tsp' },
      { low: '401200', high: '401299', kind: 'issuer', destination: 'issuer' },
      { low: '520000', high: '529999', kind: 'issuer', destination: 'issuer' },
    ]),
    peers: new Map([
      ['tsp', tspClient],
      ['issuer', issuerClient],
    ]),
    log,
    tokenServiceTimeoutMs: options.timeouts?.network ?? 150,
    issuerTimeoutMs: options.timeouts?.network ?? 150,
    reversalTimeoutMs: retry,
    standIn: { limits: options.standIn ?? [] },
    advice: { intervalMs: retry, maxAttempts: 10_000 },
  });
  servers.push(await hops.network.listen({ handler: network.handle }, { name: 'network' }));
  const networkClient = hops.network.connect(
    { name: 'network' },
    { reconnect: { initialDelayMs: 5, maxDelayMs: 20 } },
  );
  clients.push(networkClient);

  const dir = mkdtempSync(join(tmpdir(), 'amulet-rig-'));
  const store = await AcquirerStore.open(options.store ?? { kind: 'sqlite', file: join(dir, 'acquirer.db') });
  const acquirer = await AcquirerHost.start({
    store,
    network: networkClient,
    acquiringInstitutionId: ACQUIRER_ID,
    networkTimeoutMs: options.timeouts?.acquirer ?? 400,
    reversal: { intervalMs: retry, maxAttempts: 10_000 },
  });
  await acquirer.addMerchant({
    merchantId: 'MERCHANT000001',
    nameLocation: 'AMULET CAFE             PARIS        FR',
    mcc: '5814',
  });
  servers.push(await hops.terminal.listen({ handler: acquirer.handle }, { name: 'acquirer' }));

  const kernel: KernelConfig = { ...defaultKernelConfig, ...options.kernel };
  const wearables: RigWearable[] = [];
  for (let w = 0; w < wearableCount; w++) {
    const terminalId = `T${String(w).padStart(7, '0')}`;
    await acquirer.addTerminal({ terminalId, merchantId: 'MERCHANT000001' });
    const now = { ms: 1_000_000 };
    const se = SecureElement.open({
      deviceKey: new Uint8Array(32).fill(w + 1),
      rng: seededBytes(`se-${seed}-${w}`),
      clock: () => now.ms,
      blobs: memoryBlobStore(),
      counter: memoryCounter(),
    });
    for (const [i, card] of cardsOf[w]!.entries())
      se.install({
        id: `card-${i}`,
        profile: keys[card.cvn].profile,
        cvn: card.cvn,
        label: `RIG ${card.cvn}`,
        pan: card.dpan,
        expiry: '301231',
        psn: '00',
        imk: keys[card.cvn].imk,
      });
    se.enrollPin('1234');
    const acquirerClient = hops.terminal.connect(
      { name: 'acquirer' },
      { reconnect: { initialDelayMs: 5, maxDelayMs: 20 } },
    );
    clients.push(acquirerClient);
    const terminal = new PosTerminal({
      identity: { terminalId, merchantId: 'MERCHANT000001', merchantNameLocation: 'AMULET CAFE' },
      kernel,
      acquirer: acquirerClient,
      now: () => new Date(Date.UTC(2026, 11, 3, 9, 30, 0) + w * 1000),
      random: seededBytes(`terminal-${seed}-${w}`),
      firstStan: 1,
      responseTimeoutMs: options.timeouts?.terminal ?? 800,
      reversal: { intervalMs: retry, maxAttempts: 10_000 },
    });
    const transport = inProcessTransport(se);
    wearables.push({ se, terminal, cards: cardsOf[w]!, tap: (amount) => terminal.tap(transport, amount) });
  }
  await Promise.all(clients.map((c) => c.connected()));

  return {
    wearables,
    acquirer,
    store,
    network,
    log,
    tsp,
    issuer,
    tokens,
    dir,
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
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all(servers.map((s) => s.close()));
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
