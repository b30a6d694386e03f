import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attestationContext } from '../src/index.ts';
import { harnesses, type StoreHarness } from './helpers/databases.ts';
import { PAN_GREEN, PAN_YELLOW } from './helpers/tsp-server.ts';
import {
  addActiveCard,
  createTenant,
  createUser,
  get,
  type Harness,
  pairDevice,
  post,
  startHarness,
  type UserFixture,
} from './helpers/wallet-harness.ts';

for (const [label, makeDb] of harnesses) {
  describe(`lost device on ${label}`, () => {
    let db: StoreHarness;
    let h: Harness;
    let alice: UserFixture;

    beforeAll(async () => {
      db = await makeDb();
      h = await startHarness(db);
      alice = await createUser(h, await createTenant(h, 'acme'), 'alice@example.com');
    });
    afterAll(async () => {
      await h?.close();
      await db?.teardown();
    });

    it('answers "lost" only after the TSP committed the suspension of every token of the device', async () => {
      const { id } = await pairDevice(h, alice);
      await addActiveCard(h, alice, id, PAN_GREEN);
      await addActiveCard(h, alice, id, PAN_YELLOW);
      const tokenIds = [...h.tsp.tokens.values()].filter((t) => t.status === 'active').map((t) => t.tokenId);
      expect(tokenIds).toHaveLength(2);
      h.tsp.delayMs = 150;
      const response = await post(h, alice, `/v1/devices/${id}/lost`);
      const answeredAt = performance.now();
      h.tsp.delayMs = 0;
      expect(response.statusCode).toBe(200);
      for (const tokenId of tokenIds) {
        const committed = h.tsp.suspendedAt.get(tokenId);
        expect(committed).toBeDefined();
        expect(committed!).toBeLessThan(answeredAt);
        expect(h.tsp.tokens.get(tokenId)?.status).toBe('suspended');
      }
      const cards = (await get(h, alice, `/v1/cards?deviceId=${id}`)).json().cards;
      expect(cards.map((c: { status: string }) => c.status)).toEqual(['suspended', 'suspended']);
      const commands = (await get(h, alice, `/v1/devices/${id}/commands`)).json().commands;
      expect(commands.map((c: { kind: string }) => c.kind)).toEqual(['lock']);
      const ack = await post(h, alice, `/v1/devices/${id}/commands/${commands[0].id}/ack`);
      expect(ack.statusCode).toBe(204);
      expect((await get(h, alice, `/v1/devices/${id}/commands`)).json().commands).toEqual([]);
    });

    it('on "found" resumes what the TSP resumes, and leaves suspended a token it will not resume', async () => {
      const { id, device } = await pairDevice(h, alice);
      const held = await addActiveCard(h, alice, id, PAN_GREEN);
      const free = await addActiveCard(h, alice, id, PAN_YELLOW);
      expect((await post(h, alice, `/v1/devices/${id}/lost`)).statusCode).toBe(200);
      const owner = { tenantId: alice.tenant.id, userId: alice.id };
      h.tsp.refuseResume.add((await h.store.getCard(owner, held))!.tokenReference);
      const challenge = await post(h, alice, '/v1/devices/challenges', { purpose: 'found' });
      const nonce = Buffer.from(challenge.json().nonce, 'base64');
      const signature = await device.attest(nonce, attestationContext('found', alice.tenant.id, id));
      const found = await post(h, alice, `/v1/devices/${id}/found`, {
        signature: Buffer.from(signature).toString('base64'),
        nonce: nonce.toString('base64'),
      });
      expect(found.json().state).toBe('active');
      expect((await h.store.getCard(owner, held))?.status).toBe('suspended');
      expect((await h.store.getCard(owner, free))?.status).toBe('active');
    });

    it('when the TSP fails, answers 502 and leaves the device and its cards as they were', async () => {
      const { id } = await pairDevice(h, alice);
      await addActiveCard(h, alice, id, PAN_GREEN);
      const before = await h.store.snapshot();
      h.tsp.failLifecycle = true;
      const response = await post(h, alice, `/v1/devices/${id}/lost`);
      h.tsp.failLifecycle = false;
      expect(response.statusCode).toBe(502);
      expect(response.json()).toMatchObject({ code: 'ERR_TSP_UNAVAILABLE', status: 502 });
      expect(await h.store.snapshot()).toEqual(before);
      expect((await post(h, alice, `/v1/devices/${id}/lost`)).statusCode).toBe(200);
    });
  });
}
