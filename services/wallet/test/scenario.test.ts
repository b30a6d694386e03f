import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harnesses, type StoreHarness } from './helpers/databases.ts';
import { PAN_GREEN, PAN_RED, PAN_YELLOW } from './helpers/tsp-server.ts';
import {
  addActiveCard,
  createTenant,
  createUser,
  encryptCard,
  get,
  type Harness,
  pairDevice,
  post,
  startHarness,
  type UserFixture,
} from './helpers/wallet-harness.ts';

for (const [label, makeDb] of harnesses) {
  describe(`wallet scenario on ${label}`, () => {
    let db: StoreHarness;
    let h: Harness;
    let alice: UserFixture;

    beforeAll(async () => {
      db = await makeDb();
      h = await startHarness(db);
      const tenant = await createTenant(h, 'acme');
      alice = await createUser(h, tenant, 'alice@example.com');
    });
    afterAll(async () => {
      await h?.close();
      await db?.teardown();
    });

    it('pairs a device, digitizes green and yellow cards, refuses a red one, switches default, lost, found, remove, wipe', async () => {
      const { id: deviceId, device } = await pairDevice(h, alice);
      const first = await addActiveCard(h, alice, deviceId, PAN_GREEN);
      const second = await addActiveCard(h, alice, deviceId, PAN_YELLOW);
      const red = await post(h, alice, `/v1/devices/${deviceId}/cards`, {
        encryptedCard: await encryptCard(h, PAN_RED),
        network: 'visa',
      });
      expect(red.statusCode).toBe(422);
      expect(red.json()).toMatchObject({ code: 'ERR_DECLINED', reason: 'issuer-declined' });

      let cards = (await get(h, alice, `/v1/cards?deviceId=${deviceId}`)).json().cards;
      expect(
        cards.map((c: { id: string; status: string; isDefault: boolean }) => [c.id, c.status, c.isDefault]),
      ).toEqual([
        [first, 'active', true],
        [second, 'active', false],
      ]);
      expect(cards[0]).toMatchObject({
        last4: PAN_GREEN.slice(-4),
        artUrl: 'https://art.example/test-bank-classic.png',
        issuerName: 'Test Bank',
      });

      const def = await post(h, alice, `/v1/cards/${second}/default`);
      expect(def.statusCode).toBe(200);
      cards = (await get(h, alice, '/v1/cards')).json().cards;
      expect(
        cards.filter((c: { isDefault: boolean }) => c.isDefault).map((c: { id: string }) => c.id),
      ).toEqual([second]);

      const lost = await post(h, alice, `/v1/devices/${deviceId}/lost`);
      expect(lost.statusCode).toBe(200);
      expect(lost.json().state).toBe('lost');
      for (const t of h.tsp.tokens.values()) if (t.status !== 'deleted') expect(t.status).toBe('suspended');
      const commands = (await get(h, alice, `/v1/devices/${deviceId}/commands`)).json().commands;
      expect(commands.map((c: { kind: string }) => c.kind)).toContain('lock');

      // Found: the wearable attests (after its SE verified the PIN) over a fresh nonce bound to the device id.
      const challenge = await post(h, alice, '/v1/devices/challenges', { purpose: 'found' });
      const nonce = Buffer.from(challenge.json().nonce, 'base64');
      const { attestationContext } = await import('../src/index.ts');
      const signature = await device.attest(nonce, attestationContext('found', alice.tenant.id, deviceId));
      const found = await post(h, alice, `/v1/devices/${deviceId}/found`, {
        signature: Buffer.from(signature).toString('base64'),
        nonce: nonce.toString('base64'),
      });
      expect(found.statusCode).toBe(200);
      expect(found.json().state).toBe('active');
      expect([...h.tsp.tokens.values()].filter((t) => t.status === 'active')).toHaveLength(2);

      const removed = await h.app.inject({
        method: 'DELETE',
        url: `/v1/cards/${first}`,
        headers: { authorization: `Bearer ${alice.session}` },
      });
      expect(removed.statusCode).toBe(204);
      expect((await get(h, alice, `/v1/cards/${first}`)).statusCode).toBe(404);

      const wiped = await post(h, alice, `/v1/devices/${deviceId}/wipe`);
      expect(wiped.json().state).toBe('wiped');
      expect([...h.tsp.tokens.values()].every((t) => t.status === 'deleted')).toBe(true);
      expect((await get(h, alice, '/v1/cards')).json().cards).toEqual([]);
    });
  });
}
