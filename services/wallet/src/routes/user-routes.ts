import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { CredentialsBody, Problem, SessionView, TenantParams, UserView } from '../api-schemas.ts';
import { EventHub } from '../event-hub.ts';
import { hashPassword, newCredential, SCRYPT_DEFAULT, sha256Hex, verifyPassword } from '../secrets.ts';
import type { WalletContext } from '../wallet-context.ts';
import { WalletError } from '../wallet-error.ts';
import { notFound, openEventStream, ownerOf } from './route-helpers.ts';

export function registerUserRoutes(app: FastifyInstance, ctx: WalletContext): void {
  const { store, options } = ctx;
  const params = options.scrypt ?? SCRYPT_DEFAULT;
  const ttlMs = (options.sessionTtlSeconds ?? 12 * 3600) * 1000;
  const failuresMax = options.loginFailuresMax ?? 5;
  const lockMs = (options.lockoutSeconds ?? 15 * 60) * 1000;
  // Checked against when the email is unknown, so an unknown account costs the same scrypt work.
  const decoy = hashPassword('decoy password', params, options.random);

  app.post<{ Params: Static<typeof TenantParams>; Body: Static<typeof CredentialsBody> }>(
    '/v1/tenants/:tenantId/users',
    {
      // Not idempotent by key: the request carries a password, and no hash of it may be kept
      // beside the scrypt one; a repeated registration is refused by the unique email instead.
      config: { auth: 'none', idempotency: false },
      schema: {
        tags: ['users'],
        params: TenantParams,
        body: CredentialsBody,
        response: { 201: UserView, 404: Problem, 409: Problem },
      },
    },
    async (request, reply) => {
      const tenant = await store.getTenant(request.params.tenantId);
      if (tenant === undefined) throw notFound();
      const user = await store.addUser({
        id: ctx.id('usr'),
        tenantId: tenant.id,
        email: request.body.email.toLowerCase(),
        passwordHash: await hashPassword(request.body.password, params, options.random),
      });
      return reply.code(201).send({ id: user.id, email: user.email, createdAt: user.createdAt });
    },
  );

  app.post<{ Params: Static<typeof TenantParams>; Body: Static<typeof CredentialsBody> }>(
    '/v1/tenants/:tenantId/sessions',
    {
      // Not idempotent by key: the answer is a credential, stored only as its SHA-256.
      config: { auth: 'none', idempotency: false },
      schema: {
        tags: ['users'],
        params: TenantParams,
        body: CredentialsBody,
        response: { 201: SessionView, 401: Problem, 423: Problem },
      },
    },
    async (request, reply) => {
      const tenant = await store.getTenant(request.params.tenantId);
      const user = tenant && (await store.findUserByEmail(tenant.id, request.body.email.toLowerCase()));
      if (user === undefined) {
        await verifyPassword(request.body.password, await decoy);
        throw new WalletError('ERR_UNAUTHORIZED');
      }
      const now = ctx.nowMs();
      if (user.lockedUntil !== null && Date.parse(user.lockedUntil) > now)
        throw new WalletError('ERR_LOCKED');
      if (!(await verifyPassword(request.body.password, user.passwordHash))) {
        await store.recordLoginFailure(user, failuresMax, lockMs);
        throw new WalletError('ERR_UNAUTHORIZED');
      }
      if (user.failedLogins > 0 || user.lockedUntil !== null) await store.recordLoginSuccess(user);
      const session = newCredential(options.random, 'ses');
      const expiresAt = new Date(now + ttlMs).toISOString();
      await store.addSession(sha256Hex(session), { tenantId: user.tenantId, userId: user.id }, expiresAt);
      return reply.code(201).send({ session, expiresAt });
    },
  );

  app.delete(
    '/v1/session',
    { config: { auth: 'user' }, schema: { tags: ['users'], security: [{ session: [] }] } },
    async (request, reply) => {
      const p = request.principal;
      if (p.kind === 'user') {
        ctx.sessions.forget(p.sessionHash);
        await store.deleteSession(p.sessionHash);
      }
      return reply.code(204).send();
    },
  );

  app.get(
    '/v1/me',
    { config: { auth: 'user' }, schema: { tags: ['users'], security: [{ session: [] }] } },
    async (request) => {
      const owner = ownerOf(request);
      const [user, tenant] = await Promise.all([
        store.getUser(owner.tenantId, owner.userId),
        store.getTenant(owner.tenantId),
      ]);
      return {
        user: { id: user!.id, email: user!.email, createdAt: user!.createdAt },
        tenant: {
          id: tenant!.id,
          brand: tenant!.brand,
          pinPolicy: tenant!.pinPolicy,
          allowedNetworks: tenant!.allowedNetworks,
        },
      };
    },
  );

  app.get(
    '/v1/events',
    { config: { auth: 'user' }, schema: { tags: ['push'], security: [{ session: [] }] } },
    async (request, reply) => {
      const owner = ownerOf(request);
      openEventStream(ctx.hub, EventHub.userChannel(owner.tenantId, owner.userId), reply);
    },
  );
}
