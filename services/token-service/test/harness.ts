import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex } from '@amulet/bytes';
import {
  encodeTokenData,
  Field,
  interchangeCodec,
  interchangeSpec,
  Mti,
  ResponseCode,
  TokenDataId,
} from '@amulet/contracts';
import { type Hsm, SoftwareHsm } from '@amulet/hsm';
import { createMessage, type FieldValue, getText, type Iso8583Message } from '@amulet/iso8583';
import {
  type DeviceAttributes,
  issueCertificate,
  type NameFields,
  type ParsedCertificate,
  parseCertificate,
  type Signer,
} from '@amulet/pki';
import {
  AIP,
  memoryBlobStore,
  memoryCounter,
  SecureElement,
  type TapResult,
  tap,
} from '@amulet/secure-element';
import { openStore, postgresConnectionDefaults, type Store } from '@amulet/store';
import type { TlvNode } from '@amulet/tlv';
import { createTcpTransport, type TcpEndpoint, type TransportServer } from '@amulet/transport';
import { CompactEncrypt, importJWK } from 'jose';
import pg from 'pg';
import { tokenDataOf } from '../src/idv.ts';
import {
  Authorizer,
  Provisioner,
  type ProvisionerOptions,
  Scp11Loader,
  TokenService,
  type World,
} from '../src/index.ts';

export const NOW = new Date('2026-11-23T10:00:00Z');
export const DAY_MS = 86_400_000;

/** A deterministic world: a clock that moves only when told, bytes from SHA-256 of a seed and a counter. */
export function testWorld(seed: string): World & { advance(ms: number): void } {
  let now = NOW.getTime();
  let counter = 0;
  return {
    now: () => new Date(now),
    random: (n) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i += 32) {
        const block = createHash('sha256').update(`${seed}/${counter++}`).digest();
        out.set(block.subarray(0, Math.min(32, n - i)), i);
      }
      return out;
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

// ---- Certificates: a root, a device CA for the tenant, devices ----

interface TestKey {
  readonly signer: Signer;
  readonly privateKey: KeyObject;
}

function testKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  return {
    privateKey,
    signer: {
      algorithm: 'ES256',
      publicKeySpki: () => spki,
      sign: async (data) => new Uint8Array(sign('sha256', data, { key: privateKey, dsaEncoding: 'der' })),
    },
  };
}

export interface TestCert {
  readonly key: TestKey;
  readonly der: Uint8Array;
  readonly parsed: ParsedCertificate;
}

let serialCounter = 1;
async function issue(
  profile: Parameters<typeof issueCertificate>[0]['profile'],
  subject: NameFields,
  issuer?: TestCert,
): Promise<TestCert> {
  const key = testKey();
  const n = serialCounter++;
  const der = await issueCertificate(
    {
      profile,
      subject,
      subjectPublicKeyInfo: key.signer.publicKeySpki(),
      serialNumber: Uint8Array.of(0x20, (n >> 8) & 0xff, n & 0xff),
      notBefore: new Date(NOW.getTime() - DAY_MS),
      notAfter: new Date(NOW.getTime() + 3650 * DAY_MS),
      ...(issuer === undefined ? {} : { issuer: issuer.parsed }),
    },
    issuer?.key.signer ?? key.signer,
  );
  return { key, der, parsed: parseCertificate(der) };
}

export interface TestPki {
  readonly root: TestCert;
  readonly deviceCa: TestCert;
  /** Issues service certificates (the token service's loader, role tsp-loader). */
  readonly serviceCa: TestCert;
  device(serialNumber: string, tenantId?: string): Promise<TestCert>;
  /** A device certificate for a key made elsewhere (inside an SE), from its CSR's public key. */
  deviceFor(spki: Uint8Array, serialNumber: string): Promise<Uint8Array>;
  /** The loader's service certificate for a P-256 key (SPKI), then the service CA. */
  loaderChain(spki: Uint8Array, roles?: readonly ('tsp-loader' | 'tsp-encryption')[]): Promise<Uint8Array[]>;
}

async function issueFor(
  profile: Parameters<typeof issueCertificate>[0]['profile'],
  subject: NameFields,
  spki: Uint8Array,
  issuer: TestCert,
): Promise<Uint8Array> {
  const n = serialCounter++;
  return issueCertificate(
    {
      profile,
      subject,
      subjectPublicKeyInfo: spki,
      serialNumber: Uint8Array.of(0x20, (n >> 8) & 0xff, n & 0xff),
      notBefore: new Date(NOW.getTime() - DAY_MS),
      notAfter: new Date(NOW.getTime() + 3650 * DAY_MS),
      issuer: issuer.parsed,
    },
    issuer.key.signer,
  );
}

export async function testPki(tenantId = 'tenant-a'): Promise<TestPki> {
  const root = await issue({ kind: 'root' }, { organization: 'Amulet Test', commonName: 'Test Root' });
  const deviceCa = await issue(
    { kind: 'device-ca', tenantId },
    { organization: 'Amulet Test', commonName: `Device CA ${tenantId}` },
    root,
  );
  const serviceCa = await issue(
    { kind: 'service-ca' },
    { organization: 'Amulet Test', commonName: 'Service CA' },
    root,
  );
  const attributes: DeviceAttributes = { oemId: 'ACME', model: 'Band 2', seType: 'embedded', tenantId };
  return {
    root,
    deviceCa,
    serviceCa,
    deviceFor: (spki, serialNumber) =>
      issueFor(
        { kind: 'device', attributes },
        { organization: 'ACME', serialNumber, commonName: 'Band 2' },
        spki,
        deviceCa,
      ),
    loaderChain: async (spki, roles = ['tsp-loader']) => [
      await issueFor(
        { kind: 'service', roles, dnsNames: [] },
        { organization: 'Amulet Test', commonName: 'tsp-loader' },
        spki,
        serviceCa,
      ),
      serviceCa.der,
    ],
    device: async (serialNumber) => {
      const attributes: DeviceAttributes = { oemId: 'ACME', model: 'Band 2', seType: 'embedded', tenantId };
      return issue(
        { kind: 'device', attributes },
        { organization: 'ACME', serialNumber, commonName: 'Band 2' },
        deviceCa,
      );
    },
  };
}

// ---- The issuer's ID&V responder: a real ISO 8583 server over TCP ----

export interface IssuerBehaviour {
  /** By PAN: 'green', 'yellow' (then `otp` is the right code) or a decline code. */
  readonly decisions: Map<string, string>;
  readonly otp: string;
  readonly seen: Iso8583Message[];
}

export async function startIssuer(): Promise<{
  server: TransportServer<Iso8583Message, TcpEndpoint>;
  behaviour: IssuerBehaviour;
  endpoint: string;
}> {
  const behaviour: IssuerBehaviour = { decisions: new Map(), otp: '123456', seen: [] };
  const server = await createTcpTransport({ codec: interchangeCodec }).listen(
    {
      handler: (request) => {
        behaviour.seen.push(request);
        const pan = getText(request, Field.pan) ?? '';
        const data = tokenDataOf(request);
        const decision = behaviour.decisions.get(pan) ?? 'green';
        let code: string;
        if (
          getText(request, Field.processingCode) !== '180000' ||
          getText(request, Field.amount) !== '000000000000'
        )
          code = ResponseCode.invalidTransaction;
        else if (data.get(TokenDataId.messageReason) === 'OTP')
          code =
            data.get(TokenDataId.otp) === behaviour.otp ? ResponseCode.approved : ResponseCode.incorrectPin;
        else if (decision === 'green') code = ResponseCode.approved;
        else if (decision === 'yellow') code = ResponseCode.additionalAuthenticationRequired;
        else code = decision;
        const fields = new Map<number, FieldValue>();
        // A response echoes 11, 32 and 41 (ISO 8583:1987 4.3); the client pairs on them.
        for (const n of [
          Field.stan,
          Field.acquiringInstitutionId,
          Field.terminalId,
          Field.transmissionDateTime,
        ]) {
          const v = request.fields.get(n);
          if (v !== undefined) fields.set(n, v);
        }
        fields.set(Field.responseCode, code);
        return createMessage(interchangeSpec, Mti.authorizationResponse, fields);
      },
    },
    { host: '127.0.0.1', port: 0 },
  );
  return { server, behaviour, endpoint: `127.0.0.1:${server.endpoint.port}` };
}

// ---- Stores ----

export interface StoreHandle {
  readonly store: Store;
  /** Files to scan for clear PANs (SQLite database, WAL, SHM). */
  readonly files: readonly string[];
  /** Raw bytes of everything stored, for the PAN scanner (PostgreSQL: every table dumped). */
  dump(): Promise<Uint8Array[]>;
  close(): Promise<void>;
}

export async function openTestStore(kind: 'sqlite' | 'postgres', now: () => Date): Promise<StoreHandle> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'amulet-tsp-'));
    const file = join(dir, 'vault.db');
    // One read snapshot per event-loop turn: the authorization's commit re-reads status and version.
    const store = await openStore({ kind: 'sqlite', file, now, sharedReadSnapshots: true });
    const { readFileSync, existsSync } = await import('node:fs');
    const files = [file, `${file}-wal`, `${file}-shm`];
    return {
      store,
      files,
      dump: async () => files.filter((f) => existsSync(f)).map((f) => new Uint8Array(readFileSync(f))),
      close: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const { host, port, user } = postgresConnectionDefaults();
  const database = `amulet_tsp_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ host, port, user, database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const store = await openStore({ kind: 'postgres', host, port, user, database, max: 12, now });
  return {
    store,
    files: [],
    dump: async () => {
      const client = new pg.Client({ host, port, user, database });
      await client.connect();
      try {
        const tables = await client.query<{ tablename: string }>(
          "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
        );
        const out: Uint8Array[] = [];
        for (const { tablename } of tables.rows) {
          const rows = await client.query(`SELECT * FROM ${tablename}`);
          for (const row of rows.rows) {
            for (const value of Object.values(row)) {
              out.push(
                Buffer.isBuffer(value) ? new Uint8Array(value) : new TextEncoder().encode(String(value)),
              );
            }
          }
        }
        return out;
      } finally {
        await client.end();
      }
    },
    close: async () => {
      await store.close();
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    },
  };
}

// ---- The whole token service, wired for a test ----

export const VISA_IMK = fromHex('0123456789ABCDEFFEDCBA9876543210');
export const MASTERCARD_IMK = fromHex('89ABCDEF0123456776543210FEDCBA98');
export const TRID = '40010030273';
export const OTHER_TRID = '40010030274';

export interface Tsp {
  readonly service: TokenService;
  readonly authorizer: Authorizer;
  readonly provisioner: Provisioner;
  /** The loader's certificate chain (tsp-loader service certificate, service CA). */
  readonly loaderCertificates: readonly Uint8Array[];
  /** Another Provisioner on the same service and loader, with other limits. */
  provisionerWith(options: Partial<Omit<ProvisionerOptions, 'service'>>): Provisioner;
  readonly hsm: Hsm;
  readonly handle: StoreHandle;
  readonly world: ReturnType<typeof testWorld>;
  readonly pki: TestPki;
  readonly issuer: Awaited<ReturnType<typeof startIssuer>>;
  readonly revokedSerials: string[];
  close(): Promise<void>;
}

export async function startTsp(kind: 'sqlite' | 'postgres', seed = 'tsp'): Promise<Tsp> {
  const world = testWorld(seed);
  const dir = mkdtempSync(join(tmpdir(), 'amulet-tsp-hsm-'));
  const hsm = await SoftwareHsm.open({
    path: join(dir, 'keys.json'),
    masterKey: new Uint8Array(randomBytes(32)),
  });
  await hsm.generateKey({ keyId: 'vault-kek-1', algorithm: 'aes', length: 32, usage: 'data-key-wrap' });
  await hsm.generateKey({ keyId: 'vault-kek-2', algorithm: 'aes', length: 32, usage: 'data-key-wrap' });
  await hsm.generateKey({ keyId: 'pan-lookup', algorithm: 'aes', length: 32, usage: 'mac' });
  await hsm.generateKey({ keyId: 'tsp-jwe', algorithm: 'ec-p256', usage: 'key-agreement' });
  const split = (key: Uint8Array): Uint8Array[] => {
    const a = new Uint8Array(randomBytes(key.length));
    return [a, key.map((b, i) => b ^ (a[i] ?? 0))];
  };
  // SK.OCE.ECKA: the loader's SCP11a key (GlobalPlatform Amendment F), never out of the HSM.
  await hsm.generateKey({ keyId: 'tsp-loader-ecka', algorithm: 'ec-p256', usage: 'key-agreement' });
  await hsm.importKeyComponents({
    keyId: 'imk-visa',
    algorithm: 'tdes',
    usage: 'imk-ac',
    components: split(VISA_IMK),
  });
  await hsm.importKeyComponents({
    keyId: 'imk-mastercard',
    algorithm: 'tdes',
    usage: 'imk-ac',
    components: split(MASTERCARD_IMK),
  });
  const handle = await openTestStore(kind, world.now);
  const pki = await testPki();
  const issuer = await startIssuer();
  const revokedSerials: string[] = [];
  const { Iso8583IdvGateway } = await import('../src/idv.ts');
  const idv = new Iso8583IdvGateway(world, { institutionId: '99990001', timeoutMs: 5000 });
  const service = new TokenService({
    store: handle.store,
    hsm,
    world,
    keys: { kekId: 'vault-kek-1', lookupKeyId: 'pan-lookup', jweKeyId: 'tsp-jwe' },
    profiles: {
      visa: { imkKeyId: 'imk-visa', cvn: 18 },
      mastercard: { imkKeyId: 'imk-mastercard', cvn: 17 },
    },
    deviceTrust: { trustAnchors: [pki.root.der], intermediates: [pki.deviceCa.der], revokedSerials },
    idv,
    binControllerId: 'A1B2',
  });
  await service.addRequestor({ trid: TRID, name: 'Acme Wallet', tenant: 'tenant-a' });
  await service.addRequestor({ trid: OTHER_TRID, name: 'Other Wallet', tenant: 'tenant-a' });
  await service.addBinRange({
    id: 'visa-1',
    network: 'visa',
    binLow: '48950000',
    binHigh: '48959999',
    tokenLength: 16,
  });
  await service.addBinRange({
    id: 'mc-1',
    network: 'mastercard',
    binLow: '53990000',
    binHigh: '53999999',
    tokenLength: 16,
  });
  await service.addIssuer({
    id: 'bank-1',
    name: 'Test Bank',
    idvEndpoint: issuer.endpoint,
    authEndpoint: issuer.endpoint,
    bins: ['476173', '541333', '400000'],
  });
  const authorizer = new Authorizer({ store: handle.store, hsm, cards: service.cards, world });
  const loaderCertificates = await pki.loaderChain(await hsm.getPublicKey('tsp-loader-ecka'));
  const loader = new Scp11Loader({
    hsm,
    world,
    certificates: loaderCertificates,
    keyAgreementKeyId: 'tsp-loader-ecka',
    verifyDevice: (chain) => service.checkDeviceChain(chain),
  });
  const provisionerWith = (options: Partial<Omit<ProvisionerOptions, 'service'>>) =>
    new Provisioner({ service, loader, ...options });
  const provisioner = provisionerWith({});
  return {
    service,
    authorizer,
    provisioner,
    loaderCertificates,
    provisionerWith,
    hsm,
    handle,
    world,
    pki,
    issuer,
    revokedSerials,
    close: async () => {
      await idv.close();
      await issuer.server.close();
      await handle.close();
      await hsm.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What the companion app does: encrypts the card data to the TSP's JWE key with jose. */
export async function encryptCard(
  tsp: Tsp,
  card: { pan: string; expiry: string; cvv?: string },
): Promise<string> {
  const jwk = await tsp.service.jwePublicKey();
  const key = await importJWK(jwk, 'ECDH-ES+A256KW');
  return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(card)))
    .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: String(jwk.kid) })
    .encrypt(key);
}

/**
 * A wearable as manufactured (DESIGN.md flow 1): the device key made inside a real SE, a CSR to
 * the device CA, the chain stored in the SE. The SE accepts card content changes only from an
 * SCP11a off-card entity whose certificate chains to `oceRoot` (default: the TSP's root).
 */
export async function newWearable(
  tsp: Tsp,
  serial: string,
  options: { readonly pki?: TestPki; readonly oceRoot?: Uint8Array } = {},
) {
  const pki = options.pki ?? tsp.pki;
  const se = SecureElement.open({
    deviceKey: new Uint8Array(randomBytes(32)),
    rng: (n) => new Uint8Array(randomBytes(n)),
    clock: () => tsp.world.now().getTime(),
    blobs: memoryBlobStore(),
    counter: memoryCounter(),
    oceTrustAnchors: [options.oceRoot ?? tsp.pki.root.der],
  });
  const spki = se.generateDeviceKey();
  const der = await pki.deviceFor(spki, serial);
  const chain = [der, pki.deviceCa.der];
  se.storeCertificates(chain);
  return { cert: { der, parsed: parseCertificate(der) }, chain, se };
}

/** Runs the relay to the end, as the wallet and the phone would, forwarding opaque bytes. */
export async function provision(
  tsp: Tsp,
  tokenId: string,
  se: SecureElement,
  relayed: (command: Uint8Array) => Uint8Array = (command) => se.transmit(command),
  provisioner: Provisioner = tsp.provisioner,
) {
  let step = await provisioner.start(tokenId);
  while (step.state === 'command') step = await provisioner.relay(tokenId, relayed(step.command));
  return step;
}

export interface TapRequestOptions {
  readonly amount?: number;
  readonly unpredictableNumber?: Uint8Array;
  readonly posEntryMode?: string;
  readonly field4?: string;
  readonly tokenData?: readonly [string, string][];
  readonly stan?: number;
  readonly expiry?: string;
  /** The applet to tap (several tokens on one SE); default the first PPSE entry. */
  readonly aid?: string;
}

let stanCounter = 1;
/** A tap on the SE, turned into the 0100 the network forwards to the TSP (field 55 from the tap). */
export async function tapRequest(
  se: SecureElement,
  dpanExpiry: string,
  options: TapRequestOptions = {},
): Promise<{ request: Iso8583Message; tap: TapResult }> {
  const amount = options.amount ?? 1234;
  const un = options.unpredictableNumber ?? new Uint8Array(randomBytes(4));
  const result = await tap((apdu) => se.transmit(apdu), {
    amount,
    unpredictableNumber: un,
    ...(options.aid === undefined ? {} : { aid: options.aid }),
  });
  const icc: TlvNode[] = [
    { tag: '9F02', value: fromHex(String(amount).padStart(12, '0')) },
    { tag: '9F03', value: new Uint8Array(6) },
    { tag: '9F1A', value: fromHex('0250') },
    { tag: '95', value: new Uint8Array(5) },
    { tag: '5F2A', value: fromHex('0978') },
    { tag: '9A', value: fromHex('261123') },
    { tag: '9C', value: new Uint8Array(1) },
    { tag: '9F37', value: un },
    { tag: '82', value: AIP },
    { tag: '9F36', value: result.atc },
    { tag: '9F26', value: result.cryptogram },
    { tag: '9F27', value: Uint8Array.of(result.cid) },
    { tag: '9F10', value: result.iad },
    { tag: '9F34', value: fromHex('1F0302') },
  ];
  const fields = new Map<number, FieldValue>([
    [Field.pan, result.pan],
    [Field.processingCode, '000000'],
    [Field.amount, options.field4 ?? String(amount).padStart(12, '0')],
    [Field.transmissionDateTime, '1123100000'],
    [Field.stan, String(options.stan ?? stanCounter++ % 1_000_000).padStart(6, '0')],
    [Field.expiry, options.expiry ?? dpanExpiry],
    [Field.posEntryMode, options.posEntryMode ?? '071'],
    [Field.acquiringInstitutionId, '12345678'],
    [Field.terminalId, 'TERM0001'],
    [Field.merchantId, 'MERCHANT0000001'],
    [Field.iccData, icc],
  ]);
  if (options.tokenData !== undefined)
    fields.set(Field.additionalDataPrivate, encodeTokenData(options.tokenData));
  return { request: createMessage(interchangeSpec, Mti.authorizationRequest, fields), tap: result };
}

/** Tokenizes a card for a new wearable and provisions it: an active token on a real SE. */
export async function activeToken(
  tsp: Tsp,
  pan: string,
  serial: string,
  expiry = '3012',
  existing?: Awaited<ReturnType<typeof newWearable>>,
) {
  const wearable = existing ?? (await newWearable(tsp, serial));
  const outcome = await tsp.service.tokenize({
    requestorTrid: TRID,
    encryptedCard: await encryptCard(tsp, { pan, expiry }),
    deviceCertificateChain: wearable.chain,
  });
  if (outcome.status !== 'provisioning') throw new Error(`tokenize gave ${outcome.status}`);
  const step = await provision(tsp, outcome.token.tokenId, wearable.se);
  if (step.state !== 'confirmed') throw new Error(`provisioning gave ${step.state}`);
  const token = await tsp.handle.store.vault.getToken(outcome.token.tokenId);
  if (token === undefined) throw new Error('no token');
  return { ...wearable, token, view: step.token };
}

export { Field, Mti };
