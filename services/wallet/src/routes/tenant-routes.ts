import { fromPem, parseCertificate } from '@amulet/pki';
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  CreateTenantBody,
  DeviceParams,
  DeviceView,
  Problem,
  TenantParams,
  TenantSettingsBody,
  TenantView,
  UserParams,
  UserView,
} from '../api-schemas.ts';
import { newCredential, sha256Hex } from '../secrets.ts';
import { deviceView, tenantView, type WalletContext } from '../wallet-context.ts';
import { WalletError } from '../wallet-error.ts';
import { notFound, tenantOf } from './route-helpers.ts';

/** Checks that the PEM is a device CA for this tenant (RFC 5280 basicConstraints cA, Amulet tenant extension). */
function checkDeviceCa(pem: string, pkiTenantId: string): void {
  try {
    const ca = parseCertificate(fromPem(pem, 'CERTIFICATE'));
    if (ca.isCa && ca.tenantId === pkiTenantId) return;
  } catch {
    // fall through: one answer for every way it is wrong
  }
  throw new WalletError('ERR_VALIDATION', undefined, { reason: 'device-ca' });
}

export function registerTenantRoutes(app: FastifyInstance, ctx: WalletContext): void {
  const { store } = ctx;

  app.post<{ Body: Static<typeof CreateTenantBody> }>(
    '/v1/tenants',
    {
      // Not idempotent by key: the answer carries the OEM credential, which is never stored in clear.
      config: { auth: 'operator', idempotency: false },
      schema: {
        tags: ['operator'],
        security: [{ operator: [] }],
        body: CreateTenantBody,
        response: {
          201: { type: 'object', properties: { tenant: TenantView, apiKey: { type: 'string' } } },
          400: Problem,
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      checkDeviceCa(body.deviceCaPem, body.pkiTenantId);
      const apiKeyId = ctx.id('oem');
      const secret = newCredential(ctx.options.random, 'oemsec');
      const tenant = await store.addTenant({
        id: ctx.id('ten'),
        name: body.name,
        brand: body.brand,
        pinPolicy: body.pinPolicy,
        allowedNetworks: body.allowedNetworks,
        trid: body.trid,
        pkiTenantId: body.pkiTenantId,
        deviceCaPem: body.deviceCaPem,
        apiKeyId,
        // A 256-bit random secret needs no memory-hard hash: SHA-256 is enough and keeps every call fast.
        apiKeyHash: sha256Hex(secret),
      });
      return reply.code(201).send({ tenant: tenantView(tenant), apiKey: `${apiKeyId}.${secret}` });
    },
  );

  app.get<{ Params: Static<typeof TenantParams> }>(
    '/v1/tenants/:tenantId',
    {
      config: { auth: 'operator' },
      schema: {
        tags: ['operator'],
        security: [{ operator: [] }],
        params: TenantParams,
        response: { 200: TenantView },
      },
    },
    async (request) => {
      const tenant = await store.getTenant(request.params.tenantId);
      if (tenant === undefined) throw notFound();
      return tenantView(tenant);
    },
  );

  // What the app shows before login: the brand, the PIN policy, the networks.
  app.get<{ Params: Static<typeof TenantParams> }>(
    '/v1/tenants/:tenantId/brand',
    { config: { auth: 'none' }, schema: { tags: ['public'], params: TenantParams } },
    async (request) => {
      const tenant = await store.getTenant(request.params.tenantId);
      if (tenant === undefined) throw notFound();
      return { brand: tenant.brand, pinPolicy: tenant.pinPolicy, allowedNetworks: tenant.allowedNetworks };
    },
  );

  app.get(
    '/v1/tenant',
    {
      config: { auth: 'oem' },
      schema: { tags: ['oem'], security: [{ oem: [] }], response: { 200: TenantView } },
    },
    async (request) => tenantView((await store.getTenant(tenantOf(request)))!),
  );

  app.patch<{ Body: Static<typeof TenantSettingsBody> }>(
    '/v1/tenant',
    {
      config: { auth: 'oem' },
      schema: {
        tags: ['oem'],
        security: [{ oem: [] }],
        body: TenantSettingsBody,
        response: { 200: TenantView },
      },
    },
    async (request) => {
      const b = request.body;
      const tenant = await store.updateTenantSettings(tenantOf(request), {
        ...(b.brand === undefined ? {} : { brand: b.brand }),
        ...(b.pinPolicy === undefined ? {} : { pinPolicy: b.pinPolicy }),
        ...(b.allowedNetworks === undefined ? {} : { allowedNetworks: b.allowedNetworks }),
      });
      return tenantView(tenant!);
    },
  );

  app.get<{ Params: Static<typeof UserParams> }>(
    '/v1/tenant/users/:userId',
    {
      config: { auth: 'oem' },
      schema: { tags: ['oem'], security: [{ oem: [] }], params: UserParams, response: { 200: UserView } },
    },
    async (request) => {
      const user = await store.getUser(tenantOf(request), request.params.userId);
      if (user === undefined) throw notFound();
      return { id: user.id, email: user.email, createdAt: user.createdAt };
    },
  );

  app.get<{ Params: Static<typeof DeviceParams> }>(
    '/v1/tenant/devices/:deviceId',
    {
      config: { auth: 'oem' },
      schema: { tags: ['oem'], security: [{ oem: [] }], params: DeviceParams, response: { 200: DeviceView } },
    },
    async (request) => {
      const device = await store.getTenantDevice(tenantOf(request), request.params.deviceId);
      if (device === undefined) throw notFound();
      return deviceView(device);
    },
  );
}
