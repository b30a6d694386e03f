import { findClearPans } from '@amulet/store';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildRig, OPENING_BALANCE, type Rig } from './support/rig.ts';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** The faults must actually drive authorizations into reversal, or the test proves nothing. */
const exercised = { reversed: 0, releases: 0, runs: 0 };
afterAll(() => {
  if (exercised.runs === 0) return;
  expect(exercised.reversed).toBeGreaterThan(0);
  expect(exercised.releases).toBeGreaterThan(0);
});

/**
 * DESIGN.md invariant 4 on the authorization path, with the real token service and the real
 * issuer, and seeded faults on every in-memory hop (delay, loss, duplication, reordering): every
 * authorization ends in exactly one final state at the terminal and at the acquirer, and the two
 * agree with the issuer; every approval that timed out is released exactly once at the issuer;
 * repeats (duplicated 0100s, 0420/0421 retransmissions, 0120 advices) have one effect; the
 * issuer's ledger sums to zero and no account goes below its limit.
 */
describe('invariant 4 under injected faults, real token service and issuer', () => {
  // Replay or widen a run: AMULET_FAULT_SEEDS=1,2,3 npx vitest run apps/terminal/test/invariant-4.test.ts
  const seeds = process.env.AMULET_FAULT_SEEDS?.split(',').map(Number) ?? [7, 21, 1234];
  const runs: { seed: number; postgres: boolean }[] = [
    ...seeds.map((seed) => ({ seed, postgres: false })),
    { seed: seeds[0]!, postgres: true },
  ];
  for (const { seed, postgres } of runs) {
    it(`seed ${seed} on ${postgres ? 'PostgreSQL' : 'SQLite'}: one final state everywhere, one release per timed-out approval`, async () => {
      rig = await buildRig({
        seed,
        backend: postgres ? 'postgres' : 'sqlite',
        wearables: 4,
        faults: {
          delay: { kind: 'uniform', minMs: 0, maxMs: 8 },
          lossRate: 0.08,
          duplicateRate: 0.1,
          reorderRate: 0.2,
          reorderDelayMs: 6,
        },
        standIn: [{ bin: '4012', maxAmount: 5_000, maxCardAmount: 20_000 }],
        timeouts: { terminal: 700, acquirer: 300, network: 100, retry: 80 },
      });
      expect(rig.store.dialect).toBe(postgres ? 'postgres' : 'sqlite');
      expect(rig.parties.tspStore.dialect).toBe(postgres ? 'postgres' : 'sqlite');
      expect(rig.parties.issuerEngine.dialect).toBe(postgres ? 'postgres' : 'sqlite');
      const taps = 6;
      const reports = await Promise.all(
        rig.wearables.map(async (w, i) => {
          const out = [];
          for (let n = 0; n < taps; n++) {
            if (n === 3) w.se.setDefault('card-1');
            out.push(await w.tap(100 + i * 10 + n));
          }
          return out;
        }),
      );
      await rig.settle();
      const flat = reports.flat();
      expect(flat).toHaveLength(rig.wearables.length * taps);

      // Every tap that reached the acquirer has exactly one record, and every record is final.
      const records = await rig.store.all();
      expect(records.every((r) => ['approved', 'declined', 'reversed'].includes(r.state))).toBe(true);
      expect(new Set(records.map((r) => r.key)).size).toBe(records.length);
      const byKey = new Map(records.map((r) => [r.key, r]));
      const atIssuer = await rig.issuerAuthorizations();
      const keyOf = (terminalId: string, stan: string, dt: string) =>
        `00000123456/${terminalId}/${stan}/${dt}`;
      let approved = 0;
      for (const report of flat) {
        expect(['approved', 'declined']).toContain(report.outcome.status);
        const request = report.request!;
        const get = (f: number) => request.fields.get(f) as string;
        const record = byKey.get(keyOf(get(41), get(11), get(7)));
        if (report.outcome.status === 'approved') {
          approved++;
          // The terminal's approval stands at the acquirer and at the issuer.
          expect(record?.state).toBe('approved');
          expect(atIssuer.get(record!.key)?.state).toBe('held');
        } else {
          // A terminal decline is never an approval anywhere.
          expect(record?.state ?? 'never-arrived').not.toBe('approved');
          if (record !== undefined) expect(atIssuer.get(record.key)?.state ?? 'none').not.toBe('held');
        }
      }
      expect(records.filter((r) => r.state === 'approved')).toHaveLength(approved);
      expect(approved).toBeGreaterThan(0);
      // Nothing is held at the issuer that the acquirer does not hold as approved.
      for (const [key, authorization] of atIssuer)
        if (authorization.state === 'held') expect(byKey.get(key)?.state).toBe('approved');

      // Exactly once at the issuer: every reversed approval released once, no authorization twice.
      const reversals = await rig.issuerReversals();
      const releaseCounts = await rig.issuerReleaseCounts();
      for (const count of releaseCounts.values()) expect(count).toBe(1);
      const released = [...reversals.values()].filter((outcome) => outcome === 'released').length;
      expect([...releaseCounts.values()].reduce((a, b) => a + b, 0)).toBe(released);
      for (const record of records.filter((r) => r.state === 'reversed')) {
        const authorization = atIssuer.get(record.key);
        expect(authorization?.state ?? 'none').not.toBe('held');
        // An approval that timed out was released by its reversal, under its own key.
        if (authorization?.state === 'reversed' && authorization.kind === 'purchase')
          expect(reversals.get(record.key)).toBe('released');
      }
      exercised.runs++;
      exercised.reversed += records.filter((r) => r.state === 'reversed').length;
      exercised.releases += released;

      // The ledger sums to zero, balances match their entries, no account below its limit (0),
      // and the money held is exactly what the acquirer holds as approved.
      const ledger = await rig.ledger();
      expect(ledger.sumMinor).toBe(0);
      expect(ledger.mismatchedAccounts).toEqual([]);
      let spent = 0;
      for (const token of rig.tokens) {
        const available = await rig.available(token);
        expect(available).toBeGreaterThanOrEqual(0);
        spent += OPENING_BALANCE - available;
      }
      const heldTotal = [...atIssuer.values()]
        .filter((a) => a.state === 'held')
        .reduce((sum, a) => sum + a.heldMinor, 0);
      expect(spent).toBe(heldTotal);
      const approvedTotal = records
        .filter((r) => r.state === 'approved')
        .reduce((sum, r) => sum + r.amount, 0);
      expect(heldTotal).toBe(approvedTotal);

      // The network's log never holds a card number in clear, under any fault.
      const log = rig.log.text();
      const known = new Set(rig.tokens.flatMap((t) => [t.realPan, t.dpan]));
      for (const pan of known) expect(log.includes(pan)).toBe(false);
      expect(findClearPans(new TextEncoder().encode(log)).filter((hit) => known.has(hit.digits))).toEqual([]);
    });
  }
});
