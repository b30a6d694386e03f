import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { CompactEncrypt, importJWK } from 'jose';
import { attestationContext, buildWalletApp, httpTspClient, type WalletStore } from '../../src/index.ts';
import type { StoreHarness } from './databases.ts';
import { pem, seededRandom, T0, type TestDevice, type TestPki, testDevice, testPki } from './pki-fixtures.ts';
import { FakeTsp, TEST_CVV } from './tsp-server.ts';

export const OPERATOR = 'operator-credential-for-tests-0123456789';
export const PASSWORD = 'correct horse battery staple';
const POLICY = {
  sessionSeconds: 300,
  sessionTaps: 10,
  sessionAmountMinor: 100_000,
  wrongPinLimit: 5,
  pinLength: 4,
};
const BRAND = {
  displayName: 'Acme',
  primaryColour: '#112233',
  accentColour: '#445566',
  logoUrl: 'https://acme.example/logo.png',
};

export interface Harness {
  readonly app: FastifyInstance;
  readonly store: WalletStore;
  readonly tsp: FakeTsp;
  readonly pki: TestPki;
  readonly logs: string[];
  readonly clock: { ms: number };
  close(): Promise<void>;
}

export interface TenantFixture {
  readonly id: string;
  readonly apiKey: string;
  readonly pkiTenantId: string;
  readonly trid: string;
}

export interface UserFixture {
  readonly tenant: TenantFixture;
  readonly id: string;
  readonly email: string;
  readonly session: string;
}

export async function startHarness(
  db: StoreHarness,
  options: { seed?: string; revoked?: string[]; pki?: TestPki; logs?: boolean } = {},
): Promise<Harness> {
  const clock = { ms: T0.getTime() };
  const now = () => new Date(clock.ms);
  const store = await db.open(now);
  const tsp = new FakeTsp();
  await tsp.start();
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const app = await buildWalletApp({
    store,
    tsp: httpTspClient({ baseUrl: tsp.url, credential: 'wallet-at-tsp-credential' }),
    now,
    random: seededRandom(options.seed ?? 'wallet-test'),
    operatorCredential: OPERATOR,
    webhookSecret: tsp.webhookSecret,
    revokedDeviceSerials: options.revoked ?? [],
    scrypt: { N: 1024, r: 8, p: 1 },
    ...(options.logs === false ? {} : { logStream }),
  });
  await app.ready();
  return {
    app,
    store,
    tsp,
    pki: options.pki ?? (await testPki()),
    logs,
    clock,
    close: async () => {
      await app.close();
      await tsp.stop();
      await store.close();
    },
  };
}

let tridCounter = 40010030000;

export async function createTenant(
  h: Harness,
  pkiTenantId: string,
  networks = ['visa', 'mastercard'],
): Promise<TenantFixture> {
  const ca = await h.pki.deviceCa(pkiTenantId);
  const trid = String(tridCounter++);
  const response = await h.app.inject({
    method: 'POST',
    url: '/v1/tenants',
    headers: { authorization: `Bearer ${OPERATOR}` },
    payload: {
      name: pkiTenantId,
      brand: BRAND,
      pinPolicy: POLICY,
      allowedNetworks: networks,
      trid,
      pkiTenantId,
      deviceCaPem: pem(ca),
    },
  });
  if (response.statusCode !== 201) throw new Error(`tenant: ${response.statusCode} ${response.body}`);
  const body = response.json();
  return { id: body.tenant.id, apiKey: body.apiKey, pkiTenantId, trid };
}

export async function createUser(h: Harness, tenant: TenantFixture, email: string): Promise<UserFixture> {
  const created = await h.app.inject({
    method: 'POST',
    url: `/v1/tenants/${tenant.id}/users`,
    payload: { email, password: PASSWORD },
  });
  if (created.statusCode !== 201) throw new Error(`user: ${created.statusCode} ${created.body}`);
  const login = await h.app.inject({
    method: 'POST',
    url: `/v1/tenants/${tenant.id}/sessions`,
    payload: { email, password: PASSWORD },
  });
  if (login.statusCode !== 201) throw new Error(`login: ${login.statusCode} ${login.body}`);
  return { tenant, id: created.json().id, email, session: login.json().session };
}

/** POST with a session and a fresh Idempotency-Key. */
export function post(
  h: Harness,
  user: { session: string },
  url: string,
  payload: unknown = {},
  key: string = randomUUID(),
) {
  return h.app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${user.session}`, 'idempotency-key': key },
    payload: payload as Record<string, unknown>,
  });
}

export function get(h: Harness, user: { session: string }, url: string) {
  return h.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${user.session}` } });
}

export const SAS = '042917';

/** Challenge, attestation by the device (context binds the SAS), registration. */
export async function pairDevice(
  h: Harness,
  user: UserFixture,
  device?: TestDevice,
): Promise<{ id: string; device: TestDevice }> {
  const d =
    device ?? (await testDevice(await h.pki.deviceCa(user.tenant.pkiTenantId), user.tenant.pkiTenantId));
  const challenge = await post(h, user, '/v1/devices/challenges', { purpose: 'register' });
  const nonce = Buffer.from(challenge.json().nonce, 'base64');
  const signature = await d.attest(nonce, attestationContext('register', user.tenant.id, SAS));
  const response = await post(h, user, '/v1/devices', {
    certificateChain: d.chainB64,
    signature: Buffer.from(signature).toString('base64'),
    nonce: nonce.toString('base64'),
    sas: SAS,
  });
  if (response.statusCode !== 201) throw new Error(`pair: ${response.statusCode} ${response.body}`);
  return { id: response.json().id, device: d };
}

export async function encryptCard(h: Harness, pan: string): Promise<string> {
  const key = await importJWK(h.tsp.jwk, 'ECDH-ES+A256KW');
  const plaintext = new TextEncoder().encode(JSON.stringify({ pan, expiry: '2912', cvv: TEST_CVV }));
  return new CompactEncrypt(plaintext)
    .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM' })
    .encrypt(key);
}

/** Digitizes and provisions a card (relaying the fake loader's APDUs) and delivers token.activated. */
export async function addActiveCard(
  h: Harness,
  user: UserFixture,
  deviceId: string,
  pan: string,
): Promise<string> {
  const created = await post(h, user, `/v1/devices/${deviceId}/cards`, {
    encryptedCard: await encryptCard(h, pan),
    network: 'visa',
  });
  if (created.statusCode !== 201) throw new Error(`card: ${created.statusCode} ${created.body}`);
  const card = created.json();
  if (card.status === 'pending-otp') {
    const otp = await post(h, user, `/v1/cards/${card.id}/otp`, { otp: '123456' });
    if (otp.statusCode !== 200) throw new Error(`otp: ${otp.statusCode} ${otp.body}`);
  }
  let responses: string[] = [];
  for (let round = 0; round < 5; round++) {
    const step = await post(h, user, `/v1/cards/${card.id}/provisioning`, { responses });
    if (step.statusCode !== 200) throw new Error(`provisioning: ${step.statusCode} ${step.body}`);
    if (step.json().done) break;
    responses = step.json().commands.map(() => '9000');
  }
  h.clock.ms += 1000;
  const hook = h.tsp.webhook(
    'token.activated',
    card.tokenReference,
    new Date(h.clock.ms),
    { status: 'active' },
    Math.floor(h.clock.ms / 1000),
  );
  const delivered = await h.app.inject({
    method: 'POST',
    url: '/v1/webhooks/tsp',
    headers: hook.headers,
    payload: hook.body,
  });
  if (delivered.statusCode !== 200) throw new Error(`webhook: ${delivered.statusCode} ${delivered.body}`);
  return card.id;
}
