import { decodeAttestationContext } from '@amulet/secure-element';
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  AttestationBody,
  ChallengeBody,
  ChallengeView,
  CommandParams,
  CommandView,
  DeviceParams,
  DeviceView,
  EmptyBody,
  Problem,
  RegisterDeviceBody,
} from '../api-schemas.ts';
import { EventHub } from '../event-hub.ts';
import { sha256Hex } from '../secrets.ts';
import type { TspLifecycleAction, TspTokenStatus } from '../tsp-client.ts';
import type { Device, Tenant } from '../types.ts';
import { deviceView, type WalletContext } from '../wallet-context.ts';
import { WalletError } from '../wallet-error.ts';
import type { Owner } from '../wallet-store.ts';
import { decodeBase64, downstreamKey, notFound, openEventStream, ownerOf } from './route-helpers.ts';

/**
 * What the device signs to attest (docs/wallet.md, "Attestation contexts"): registration binds the
 * secure link's short authentication string, so the wallet pairs the very wearable whose code the
 * user compared; "found" binds the device id, and the wearable signs it only after its secure
 * element verified the wearer's PIN.
 */
export function attestationContext(
  purpose: 'register' | 'found',
  tenantId: string,
  subject: string,
): Uint8Array {
  return new TextEncoder().encode(`amulet-wallet/v1 ${purpose} ${tenantId} ${subject}`);
}

const user = { config: { auth: 'user' as const } };
const security = [{ session: [] }];

export function registerDeviceRoutes(app: FastifyInstance, ctx: WalletContext): void {
  const { store, tsp, options } = ctx;
  const challengeTtlMs = (options.challengeTtlSeconds ?? 300) * 1000;

  async function verifyAttestation(
    tenant: Tenant,
    owner: Owner,
    chain: readonly Uint8Array[],
    signature: Uint8Array,
    nonce: Uint8Array,
    purpose: 'register' | 'found',
    subject: string,
    signedContext: Uint8Array | undefined,
  ) {
    // The challenge is consumed first (used once whatever the outcome); the verifier still reports
    // chain failures before a stale nonce (docs/root-of-trust.md, "Attestation").
    const fresh = await store.consumeChallenge(sha256Hex(nonce), owner, purpose);
    const expected = attestationContext(purpose, tenant.id, subject);
    let context = expected;
    if (signedContext !== undefined) {
      // A secure element signs the wallet's context inside its own TLV, with its state appended
      // (modules/secure-element, device-identity.ts): the wallet's part must be exactly `expected`.
      let decoded: ReturnType<typeof decodeAttestationContext>;
      try {
        decoded = decodeAttestationContext(signedContext);
      } catch {
        throw new WalletError('ERR_ATTESTATION', undefined, { reason: 'malformed' });
      }
      if (Buffer.compare(Buffer.from(decoded.callerContext), Buffer.from(expected)) !== 0)
        throw new WalletError('ERR_ATTESTATION', undefined, { reason: 'wrong-context' });
      // "Found" needs a PIN in the secure element, not blocked.
      if (purpose === 'found' && decoded.state.pin !== 'set')
        throw new WalletError('ERR_ATTESTATION', undefined, { reason: 'pin-not-set' });
      context = signedContext;
    }
    const result = ctx.attestationVerifier(tenant).verify({
      chain,
      signature,
      nonce,
      context,
      nowMs: ctx.nowMs(),
      revocation: (serialHex) => (ctx.revoked.has(serialHex.toUpperCase()) ? 'revoked' : 'good'),
      consumeNonce: () => fresh,
    });
    if (result.status === 'invalid')
      throw new WalletError('ERR_ATTESTATION', undefined, { reason: result.reason });
    return result.device;
  }

  async function ownedDevice(
    request: FastifyRequest<{ Params: { deviceId: string } }>,
  ): Promise<{ owner: Owner; device: Device }> {
    const owner = ownerOf(request);
    const device = await store.getDevice(owner, request.params.deviceId);
    if (device === undefined) throw notFound();
    return { owner, device };
  }

  /** Token ids the TSP holds for this device and requestor, with the wallet's own cards of the device. */
  async function deviceTokens(
    tenant: Tenant,
    device: Device,
    wanted: readonly TspTokenStatus[],
  ): Promise<string[]> {
    const [remote, local] = await Promise.all([
      tsp.tokensOfDevice(tenant.trid, device.certFingerprint),
      store.deviceCards(tenant.id, device.id),
    ]);
    const ids = new Set(remote.filter((t) => wanted.includes(t.status)).map((t) => t.tokenId));
    const remoteIds = new Set(remote.map((t) => t.tokenId));
    for (const card of local) if (!remoteIds.has(card.tokenReference)) ids.add(card.tokenReference);
    return [...ids].sort();
  }

  /** One lifecycle call for many tokens; an answer other than done or already-there is a failure. */
  async function changeAll(
    request: FastifyRequest,
    tenant: Tenant,
    tokenIds: readonly string[],
    action: TspLifecycleAction,
    reason: string,
  ): Promise<ReadonlySet<string>> {
    if (tokenIds.length === 0) return new Set();
    const outcomes = await tsp.changeStatus(
      { requestorTrid: tenant.trid, tokenIds, action, actor: 'cardholder', reason },
      downstreamKey(request, `${action} ${tokenIds.join(',')}`),
    );
    const settled = new Set(
      outcomes
        .filter((o) => o.ok || o.problem === 'not-allowed' || o.problem === 'not-found')
        .map((o) => o.tokenId),
    );
    if (tokenIds.some((id) => !settled.has(id)))
      throw new WalletError('ERR_TSP_UNAVAILABLE', undefined, { reason: 'lifecycle' });
    // The tokens the TSP changed now (not those already there, or that it would not change).
    return new Set(outcomes.filter((o) => o.ok).map((o) => o.tokenId));
  }

  app.post<{ Body: Static<typeof ChallengeBody> }>(
    '/v1/devices/challenges',
    {
      ...user,
      schema: { tags: ['devices'], security, body: ChallengeBody, response: { 201: ChallengeView } },
    },
    async (request, reply) => {
      const owner = ownerOf(request);
      const nonce = options.random(32);
      const expiresAt = new Date(ctx.nowMs() + challengeTtlMs).toISOString();
      await store.addChallenge(sha256Hex(nonce), owner, request.body.purpose, expiresAt);
      return reply.code(201).send({ nonce: Buffer.from(nonce).toString('base64'), expiresAt });
    },
  );

  app.post<{ Body: Static<typeof RegisterDeviceBody> }>(
    '/v1/devices',
    {
      ...user,
      schema: {
        tags: ['devices'],
        security,
        body: RegisterDeviceBody,
        response: { 201: DeviceView, 409: Problem, 422: Problem },
      },
    },
    async (request, reply) => {
      const owner = ownerOf(request);
      const tenant = (await store.getTenant(owner.tenantId))!;
      const chain = request.body.certificateChain.map(decodeBase64);
      const attested = await verifyAttestation(
        tenant,
        owner,
        chain,
        decodeBase64(request.body.signature),
        decodeBase64(request.body.nonce),
        'register',
        request.body.sas,
        request.body.context === undefined ? undefined : decodeBase64(request.body.context),
      );
      const device = await store.pairDevice({
        id: ctx.id('dev'),
        tenantId: owner.tenantId,
        userId: owner.userId,
        certSerial: attested.certificateSerialHex,
        certFingerprint: sha256Hex(chain[0]!),
        chain: request.body.certificateChain,
        model: attested.attributes?.model ?? attested.subject.commonName ?? 'unknown',
        oemId: attested.attributes?.oemId ?? attested.subject.organization ?? 'unknown',
      });
      ctx.pushDevice(device, owner, 'device.paired');
      return reply.code(201).send(deviceView(device));
    },
  );

  app.get(
    '/v1/devices',
    {
      ...user,
      schema: {
        tags: ['devices'],
        security,
        response: { 200: { type: 'object', properties: { devices: { type: 'array', items: DeviceView } } } },
      },
    },
    async (request) => ({ devices: (await store.listDevices(ownerOf(request))).map(deviceView) }),
  );

  app.get<{ Params: Static<typeof DeviceParams> }>(
    '/v1/devices/:deviceId',
    {
      ...user,
      schema: {
        tags: ['devices'],
        security,
        params: DeviceParams,
        response: { 200: DeviceView, 404: Problem },
      },
    },
    async (request) => deviceView((await ownedDevice(request)).device),
  );

  // Lost: every token of the device is suspended at the TSP, committed there, before the answer;
  // then the device turns lost and a lock command waits for it (DESIGN.md flow 8).
  app.post<{ Params: Static<typeof DeviceParams>; Body: Static<typeof EmptyBody> }>(
    '/v1/devices/:deviceId/lost',
    {
      ...user,
      schema: {
        tags: ['devices'],
        security,
        params: DeviceParams,
        body: EmptyBody,
        response: { 200: DeviceView, 404: Problem, 409: Problem, 502: Problem },
      },
    },
    async (request) => {
      const { owner, device } = await ownedDevice(request);
      if (device.state !== 'active')
        throw new WalletError('ERR_CONFLICT', undefined, { reason: `device-${device.state}` });
      const tenant = (await store.getTenant(owner.tenantId))!;
      await changeAll(
        request,
        tenant,
        await deviceTokens(tenant, device, ['active']),
        'suspend',
        'device reported lost',
      );
      const lost = await store.transitionDevice(owner, device.id, ['active'], 'lost', [
        { id: ctx.id('cmd'), kind: 'lock', tokenReference: null },
      ]);
      if (lost === undefined) throw new WalletError('ERR_CONFLICT', undefined, { reason: 'device-changed' });
      await store.setDeviceCardsStatus(device.id, ['active'], 'suspended');
      ctx.pushDevice(lost, owner, 'device.lost');
      ctx.hub.publish(EventHub.deviceChannel(owner.tenantId, device.id), {
        type: 'device.command',
        data: { kind: 'lock' },
      });
      return deviceView(lost);
    },
  );

  // Found: a fresh attestation that the wearable signs only after its secure element verified the PIN.
  app.post<{ Params: Static<typeof DeviceParams>; Body: Static<typeof AttestationBody> }>(
    '/v1/devices/:deviceId/found',
    {
      ...user,
      schema: {
        tags: ['devices'],
        security,
        params: DeviceParams,
        body: AttestationBody,
        response: { 200: DeviceView, 404: Problem, 409: Problem, 422: Problem },
      },
    },
    async (request) => {
      const { owner, device } = await ownedDevice(request);
      if (device.state !== 'lost')
        throw new WalletError('ERR_CONFLICT', undefined, { reason: `device-${device.state}` });
      const tenant = (await store.getTenant(owner.tenantId))!;
      await verifyAttestation(
        tenant,
        owner,
        device.chain.map(decodeBase64),
        decodeBase64(request.body.signature),
        decodeBase64(request.body.nonce),
        'found',
        device.id,
        request.body.context === undefined ? undefined : decodeBase64(request.body.context),
      );
      const suspended = (await store.deviceCards(tenant.id, device.id)).filter(
        (c) => c.status === 'suspended',
      );
      // A token the TSP will not resume (an issuer suspended it) stays suspended here too.
      const resumed = await changeAll(
        request,
        tenant,
        suspended.map((c) => c.tokenReference),
        'resume',
        'device found',
      );
      const found = await store.transitionDevice(owner, device.id, ['lost'], 'active', [
        { id: ctx.id('cmd'), kind: 'unlock', tokenReference: null },
      ]);
      if (found === undefined) throw new WalletError('ERR_CONFLICT', undefined, { reason: 'device-changed' });
      for (const card of suspended)
        if (resumed.has(card.tokenReference)) await store.setCardStatus(card.id, 'active');
      ctx.pushDevice(found, owner, 'device.found');
      ctx.hub.publish(EventHub.deviceChannel(owner.tenantId, device.id), {
        type: 'device.command',
        data: { kind: 'unlock' },
      });
      return deviceView(found);
    },
  );

  // Wipe for resale: every token deleted at the TSP, the cards removed, a wipe command queued;
  // the next owner pairs the device again after a fresh attestation.
  app.post<{ Params: Static<typeof DeviceParams>; Body: Static<typeof EmptyBody> }>(
    '/v1/devices/:deviceId/wipe',
    {
      ...user,
      schema: {
        tags: ['devices'],
        security,
        params: DeviceParams,
        body: EmptyBody,
        response: { 200: DeviceView, 404: Problem, 409: Problem, 502: Problem },
      },
    },
    async (request) => {
      const { owner, device } = await ownedDevice(request);
      if (device.state === 'wiped')
        throw new WalletError('ERR_CONFLICT', undefined, { reason: 'device-wiped' });
      const tenant = (await store.getTenant(owner.tenantId))!;
      await changeAll(
        request,
        tenant,
        await deviceTokens(tenant, device, ['inactive', 'active', 'suspended']),
        'delete',
        'device wiped',
      );
      const wiped = await store.transitionDevice(owner, device.id, ['active', 'lost'], 'wiped', [
        { id: ctx.id('cmd'), kind: 'wipe', tokenReference: null },
      ]);
      if (wiped === undefined) throw new WalletError('ERR_CONFLICT', undefined, { reason: 'device-changed' });
      await store.setDeviceCardsStatus(
        device.id,
        ['pending-otp', 'provisioning', 'active', 'suspended'],
        'removed',
      );
      ctx.pushDevice(wiped, owner, 'device.wiped');
      ctx.hub.publish(EventHub.deviceChannel(owner.tenantId, device.id), {
        type: 'device.command',
        data: { kind: 'wipe' },
      });
      return deviceView(wiped);
    },
  );

  app.get<{ Params: Static<typeof DeviceParams> }>(
    '/v1/devices/:deviceId/commands',
    {
      ...user,
      schema: {
        tags: ['devices'],
        security,
        params: DeviceParams,
        response: {
          200: { type: 'object', properties: { commands: { type: 'array', items: CommandView } } },
        },
      },
    },
    async (request) => {
      const { owner, device } = await ownedDevice(request);
      const commands = await store.pendingCommands(owner.tenantId, device.id);
      return {
        commands: commands.map((c) => ({
          id: c.id,
          kind: c.kind,
          tokenReference: c.tokenReference,
          createdAt: c.createdAt,
        })),
      };
    },
  );

  app.post<{ Params: Static<typeof CommandParams>; Body: Static<typeof EmptyBody> }>(
    '/v1/devices/:deviceId/commands/:commandId/ack',
    {
      ...user,
      schema: {
        tags: ['devices'],
        security,
        params: CommandParams,
        body: EmptyBody,
        response: { 404: Problem },
      },
    },
    async (request, reply) => {
      const { owner, device } = await ownedDevice(request);
      if (!(await store.acknowledgeCommand(owner.tenantId, device.id, request.params.commandId)))
        throw notFound();
      return reply.code(204).send();
    },
  );

  // The device's push channel, which its companion relays over the secure link: every queued
  // command is announced here as `device.command` (lock, unlock, set-default, delete-applet, wipe),
  // and the commands list above holds them until acknowledged, for a device that was away.
  app.get<{ Params: Static<typeof DeviceParams> }>(
    '/v1/devices/:deviceId/events',
    { ...user, schema: { tags: ['push'], security, params: DeviceParams } },
    async (request, reply) => {
      const { owner, device } = await ownedDevice(request);
      openEventStream(ctx.hub, EventHub.deviceChannel(owner.tenantId, device.id), reply);
    },
  );
}
