import { Field } from '@amulet/contracts';
import type { Iso8583Message } from '@amulet/iso8583';
import { createMemoryTransport, isTransportError, sendUntilAcknowledged } from '@amulet/transport';
import { describe, expect, it } from 'vitest';
import { iso8583Codec, listenIssuer } from '../src/index.ts';
import { openHarness, sqliteBackend } from './fixtures.ts';
import { authorizationRequest, reversalOf, withMti } from './messages.ts';

/**
 * DESIGN.md invariant 4 at the issuer's edge: with loss, duplication, delay and reordering on the
 * in-memory transport (seeded), an acquirer-like client reverses every authorization that timed
 * out (0420, repeated as 0421 until acknowledged). Afterwards exactly the approvals the client saw
 * are held, every other one released or never held, and the ledger sums to zero.
 */
describe('issuer under transport faults', () => {
  for (const seed of [11, 12]) {
    it(`holds exactly the approvals the client received (seed ${seed})`, async () => {
      const h = await openHarness(sqliteBackend, { seed });
      const faults = {
        lossRate: 0.15,
        duplicateRate: 0.3,
        reorderRate: 0.3,
        delay: { kind: 'uniform', minMs: 0, maxMs: 8 },
      } as const;
      const transport = createMemoryTransport({
        codec: iso8583Codec,
        seed,
        toServer: faults,
        toClient: faults,
      });
      const server = await listenIssuer(h.issuer, transport, { name: `issuer-${seed}` });
      const client = transport.connect(server.endpoint, { defaultTimeoutMs: 150 });
      await client.connected();
      try {
        const account = await h.issuer.createAccount({
          cardholderId: 'bob',
          currency: '978',
          openingBalanceMinor: 1_000_00,
        });
        const card = await h.issuer.issueCard({ accountId: account.id });
        h.pans.add(card.pan);
        let approved = 0;
        let reversed = 0;
        await Promise.all(
          Array.from({ length: 40 }, async () => {
            const request = authorizationRequest({ pan: card.pan, amountMinor: 1_00 });
            let response: Iso8583Message | undefined;
            try {
              response = await client.request(request);
            } catch (error) {
              if (!isTransportError(error) || error.code !== 'ERR_TIMEOUT') throw error;
            }
            if (response !== undefined) {
              if (response.fields.get(Field.responseCode) === '00') approved++;
              return;
            }
            reversed++;
            await sendUntilAcknowledged(client, reversalOf(request, '0420'), {
              repeat: (m) => withMti(m, '0421'),
              intervalMs: 150,
              maxAttempts: 40,
            });
          }),
        );
        // Let delayed duplicates land: each has the same key, so none may hold again.
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(reversed).toBeGreaterThan(0);
        expect(approved).toBeGreaterThan(0);
        expect((await h.issuer.account(account.id)).heldMinor).toBe(approved * 1_00);
        const ledger = await h.issuer.checkLedger();
        expect(ledger.sumMinor).toBe(0);
        expect(ledger.mismatchedAccounts).toEqual([]);
      } finally {
        await client.close();
        await server.close();
        await h.close();
      }
    });
  }
});
