import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StoreHarness, sqliteHarness } from './helpers/databases.ts';
import {
  createTenant,
  createUser,
  get,
  type Harness,
  PASSWORD,
  startHarness,
  type TenantFixture,
} from './helpers/wallet-harness.ts';

describe('users, sessions and lockout', () => {
  let db: StoreHarness;
  let h: Harness;
  let tenant: TenantFixture;

  beforeAll(async () => {
    db = await sqliteHarness();
    h = await startHarness(db);
    tenant = await createTenant(h, 'acme');
  });
  afterAll(async () => {
    await h?.close();
    await db?.teardown();
  });

  const login = (email: string, password: string) =>
    h.app.inject({ method: 'POST', url: `/v1/tenants/${tenant.id}/sessions`, payload: { email, password } });

  it('stores the password as scrypt, never in clear, and refuses a second account with the same email', async () => {
    const user = await createUser(h, tenant, 'carol@example.com');
    const row = await h.store.findUserByEmail(tenant.id, 'carol@example.com');
    expect(row?.passwordHash.startsWith('scrypt$1024$8$1$')).toBe(true);
    expect(row?.passwordHash).not.toContain(PASSWORD);
    const again = await h.app.inject({
      method: 'POST',
      url: `/v1/tenants/${tenant.id}/users`,
      payload: { email: 'carol@example.com', password: PASSWORD },
    });
    expect(again.statusCode).toBe(409);
    expect((await get(h, user, '/v1/me')).json().user.email).toBe('carol@example.com');
  });

  it('locks the account after five wrong passwords, even for the right one, until the lock expires', async () => {
    await createUser(h, tenant, 'dave@example.com');
    for (let i = 0; i < 5; i++)
      expect((await login('dave@example.com', 'wrong password!!')).statusCode).toBe(401);
    const locked = await login('dave@example.com', PASSWORD);
    expect(locked.statusCode).toBe(423);
    expect(locked.json().code).toBe('ERR_LOCKED');
    h.clock.ms += 15 * 60 * 1000 + 1;
    expect((await login('dave@example.com', PASSWORD)).statusCode).toBe(201);
  });

  it('answers an unknown email like a wrong password, and an unknown tenant the same', async () => {
    expect((await login('nobody@example.com', PASSWORD)).json().code).toBe('ERR_UNAUTHORIZED');
    const other = await h.app.inject({
      method: 'POST',
      url: '/v1/tenants/ten_nope/sessions',
      payload: { email: 'a@b.c', password: PASSWORD },
    });
    expect(other.statusCode).toBe(401);
  });

  it('ends a session on logout and when it expires', async () => {
    const user = await createUser(h, tenant, 'erin@example.com');
    expect((await get(h, user, '/v1/me')).statusCode).toBe(200);
    await h.app.inject({
      method: 'DELETE',
      url: '/v1/session',
      headers: { authorization: `Bearer ${user.session}` },
    });
    expect((await get(h, user, '/v1/me')).statusCode).toBe(401);
    const second = await createUser(h, tenant, 'frank@example.com');
    h.clock.ms += 12 * 3600 * 1000 + 1;
    const expired = await get(h, second, '/v1/me');
    expect(expired.statusCode).toBe(401);
    expect(expired.headers['www-authenticate']).toBe('Bearer');
  });

  it('lets the OEM back office read its users but not the operator routes, and the operator read tenants', async () => {
    const user = await createUser(h, tenant, 'gina@example.com');
    const oem = { session: tenant.apiKey };
    expect((await get(h, oem, `/v1/tenant/users/${user.id}`)).json().email).toBe('gina@example.com');
    expect((await get(h, oem, `/v1/tenants/${tenant.id}`)).statusCode).toBe(401);
    expect((await get(h, oem, '/v1/tenant')).json().trid).toBe(tenant.trid);
    const bad = { session: `${tenant.apiKey.split('.')[0]}.oemsec_wrong` };
    expect((await get(h, bad, '/v1/tenant')).statusCode).toBe(401);
  });
});
