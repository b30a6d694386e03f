import { randomBytes } from 'node:crypto';
import type { AcquirerStoreOptions } from '@amulet/acquirer';
import { findClearPans, postgresConnectionDefaults } from '@amulet/store';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildRig, OPENING_BALANCE, type Rig } from './support/rig.ts';

let rig: Rig | undefined;
const dropDatabases: (() => Promise<void>)[] = [];
afterEach(async () => {
  await rig?.close();
  rig = undefined;
  for (const drop of dropDatabases.splice(0)) await drop();
});

/** A fresh PostgreSQL database for the acquirer, dropped after the test. */
async function postgresStore(): Promise<AcquirerStoreOptions> {
  const { host, port, user } = postgresConnectionDefaults();
  const database = `amulet_terminal_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ host, port, user, database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  dropDatabases.push(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });
  return { kind: 'postgres', host, port, user, database };
}

/** The faults must actually drive authorizations into reversal, or the test proves nothing. */
const exercised = { reversed: 0, releases: 0 };
afterAll(() => {
  expect(exercised.reversed).toBeGreaterThan(0);
  expect(exercised.releases).toBeGreaterThan(0);
});

/**
 * DESIGN.md invariant 4 on the authorization path, with seeded faults on every in-memory hop
 * (delay, loss, duplication, reordering): every authorization ends in exactly one final state at
 * the terminal and at the acquirer, and the two agree; every approval that timed out is reversed
 * exactly once at the issuer; repeats (duplicated 0100s, 0420/0421 retransmissions, 0120
 * advices) have one effect; the issuer's money adds up.
 */
describe('invariant 4 under injected faults', () => {
  // Replay or widen a run: AMULET_FAULT_SEEDS=1,2,3 npx vitest run apps/terminal/test/invariant-4.test.ts
  const seeds = process.env.AMULET_FAULT_SEEDS?.split(',').map(Number) ?? [7, 21, 1234];
  const runs: { seed: number; postgres: boolean }[] = [
    ...seeds.map((seed) => ({ seed, postgres: false })),
    { seed: seeds[0]!, postgres: true },
  ];
  for (const { seed, postgres } of runs) {
    it(`seed ${seed}${postgres ? ', acquirer on PostgreSQL' : ''}: one final state everywhere, one reversal per timed-out approval`, async () => {
      rig = await buildRig({
        seed,
        ...(postgres ? { store: await postgresStore() } : {}),
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
      const byKey = new Map(records.map((r) => [r.key, r]));
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
          expect(rig.issuer.hold(record!.key)).toBe('held');
        } else {
          // A terminal decline is never an approval anywhere.
          expect(record?.state ?? 'never-arrived').not.toBe('approved');
          if (record !== undefined) expect(rig.issuer.hold(record.key) ?? 'none').not.toBe('held');
        }
      }
      expect(records.filter((r) => r.state === 'approved')).toHaveLength(approved);
      expect(approved).toBeGreaterThan(0);
      exercised.reversed += records.filter((r) => r.state === 'reversed').length;
      exercised.releases += rig.issuer.effects.releases;

      // Exactly once at the issuer: each hold released at most once, and the money adds up.
      const holds = [...rig.issuer.holds().values()];
      const released = holds.filter((h) => h.state === 'released');
      expect(rig.issuer.effects.releases).toBe(released.length);
      expect(rig.issuer.effects.holds + rig.issuer.effects.advicesPosted).toBe(
        holds.filter((h) => h.state !== 'declined').length,
      );
      // Every approval the acquirer reversed (timed out, or the terminal gave up) was released at the issuer.
      for (const record of records.filter((r) => r.state === 'reversed')) {
        expect(rig.issuer.hold(record.key) ?? 'none').not.toBe('held');
      }
      let total = 0;
      for (const token of rig.tokens) total += OPENING_BALANCE - rig.issuer.available(token.realPan)!;
      const heldTotal = holds.filter((h) => h.state === 'held').reduce((sum, h) => sum + h.amount, 0);
      expect(total).toBe(heldTotal);
      const approvedTotal = records
        .filter((r) => r.state === 'approved')
        .reduce((sum, r) => sum + r.amount, 0);
      expect(heldTotal).toBe(approvedTotal);

      // The network's log never holds a card number in clear, under any fault.
      const log = rig.log.text();
      const known = new Set(rig.tokens.flatMap((t) => [t.realPan, t.dpan]));
      for (const pan of known) expect(log.includes(pan)).toBe(false);
      const bytes = new TextEncoder().encode(log);
      expect(
        findClearPans(bytes).filter((hit) =>
          known.has(new TextDecoder().decode(bytes.subarray(hit.offset, hit.offset + 16))),
        ),
      ).toEqual([]);
    });
  }
});
