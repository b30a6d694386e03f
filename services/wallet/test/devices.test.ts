import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attestationContext } from '../src/index.ts';
import { type StoreHarness, sqliteHarness } from './helpers/databases.ts';
import { DAY_MS, T0, type TestDevice, testDevice, testPki } from './helpers/pki-fixtures.ts';
import {
  createTenant,
  createUser,
  type Harness,
  pairDevice,
  post,
  SAS,
  startHarness,
  type TenantFixture,
  type UserFixture,
} from './helpers/wallet-harness.ts';

describe('device registration through the root of trust', () => {
  let db: StoreHarness;
  let h: Harness;
  let tenant: TenantFixture;
  let alice: UserFixture;
  let bob: UserFixture;
  let revokedDevice: TestDevice;

  beforeAll(async () => {
    db = await sqliteHarness();
    // The revocation list comes from configuration: a device issued first, then named in it.
    const pki = await testPki();
    revokedDevice = await testDevice(await pki.deviceCa('acme'), 'acme');
    h = await startHarness(db, { revoked: [revokedDevice.serialHex], pki });
    tenant = await createTenant(h, 'acme');
    alice = await createUser(h, tenant, 'alice@example.com');
    bob = await createUser(h, tenant, 'bob@example.com');
  });
  afterAll(async () => {
    await h?.close();
    await db?.teardown();
  });

  async function register(
    user: UserFixture,
    device: TestDevice,
    opts: { sas?: string; signedSas?: string; nonce?: Buffer } = {},
  ) {
    const challenge = await post(h, user, '/v1/devices/challenges', { purpose: 'register' });
    const nonce = opts.nonce ?? Buffer.from(challenge.json().nonce, 'base64');
    const signature = await device.attest(
      nonce,
      attestationContext('register', tenant.id, opts.signedSas ?? SAS),
    );
    return post(h, user, '/v1/devices', {
      certificateChain: device.chainB64,
      signature: Buffer.from(signature).toString('base64'),
      nonce: nonce.toString('base64'),
      sas: opts.sas ?? SAS,
    });
  }

  const reasons: [string, () => Promise<TestDevice>, string][] = [
    [
      'expired',
      async () => testDevice(revokedDevice.ca, 'acme', { notAfter: new Date(T0.getTime() - 1000) }),
      'expired',
    ],
    [
      'not yet valid',
      async () => testDevice(revokedDevice.ca, 'acme', { notBefore: new Date(T0.getTime() + DAY_MS) }),
      'not-yet-valid',
    ],
    ['revoked', async () => revokedDevice, 'revoked'],
    // Another root of trust's device CA, with the same tenant name: not the tenant's device CA.
    [
      'from an unknown CA',
      async () => testDevice(await (await testPki()).deviceCa('acme'), 'acme'),
      'unknown-ca',
    ],
  ];
  for (const [name, make, reason] of reasons) {
    it(`refuses a device certificate ${name}`, async () => {
      const response = await register(alice, await make());
      expect(response.statusCode).toBe(422);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json()).toMatchObject({ code: 'ERR_ATTESTATION', reason });
    });
  }

  it('refuses when the device signed another short authentication string (the link was not the one compared)', async () => {
    const device = await testDevice(revokedDevice.ca, 'acme');
    const response = await register(alice, device, { signedSas: '111111' });
    expect(response.json()).toMatchObject({ code: 'ERR_ATTESTATION', reason: 'bad-signature' });
  });

  it('refuses a nonce used twice, and a nonce issued to someone else', async () => {
    const device = await testDevice(revokedDevice.ca, 'acme');
    const challenge = await post(h, bob, '/v1/devices/challenges', { purpose: 'register' });
    const bobsNonce = Buffer.from(challenge.json().nonce, 'base64');
    const stolen = await register(alice, device, { nonce: bobsNonce });
    expect(stolen.json()).toMatchObject({ code: 'ERR_ATTESTATION', reason: 'stale-nonce' });
    const first = await register(alice, device);
    expect(first.statusCode).toBe(201);
    const again = await register(bob, device, { nonce: bobsNonce });
    expect(again.json()).toMatchObject({ code: 'ERR_ATTESTATION', reason: 'stale-nonce' });
  });

  it('pairs a device to one user only; after a wipe a new owner pairs it again', async () => {
    const device = await testDevice(revokedDevice.ca, 'acme');
    const { id } = await pairDevice(h, alice, device);
    const taken = await register(bob, device);
    expect(taken.statusCode).toBe(409);
    expect((await post(h, alice, `/v1/devices/${id}/wipe`)).json().state).toBe('wiped');
    const resold = await register(bob, device);
    expect(resold.statusCode).toBe(201);
    expect(resold.json()).toMatchObject({ id, state: 'active' });
    expect((await post(h, alice, `/v1/devices/${id}/lost`)).statusCode).toBe(404);
  });

  it('moves only along active -> lost -> active and refuses the rest with 409', async () => {
    const { id } = await pairDevice(h, alice, await testDevice(revokedDevice.ca, 'acme'));
    expect((await post(h, alice, `/v1/devices/${id}/lost`)).statusCode).toBe(200);
    const twice = await post(h, alice, `/v1/devices/${id}/lost`);
    expect(twice.statusCode).toBe(409);
    expect(twice.json()).toMatchObject({ code: 'ERR_CONFLICT', reason: 'device-lost' });
    const cards = await post(h, alice, `/v1/devices/${id}/cards`, {
      encryptedCard: 'a.b.c.d.e'.repeat(3),
      network: 'visa',
    });
    expect(cards.statusCode).toBe(400);
  });
});
