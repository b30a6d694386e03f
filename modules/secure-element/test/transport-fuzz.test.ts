import { fromHex, toHex } from '@amulet/bytes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inProcessTransport, loadSandboxCards, runConformance } from '../src/index.ts';
import { rig } from './fixtures.ts';

const sw1Valid = (sw1: number) => (sw1 >= 0x61 && sw1 <= 0x6f) || (sw1 >= 0x90 && sw1 <= 0x9f);

describe('transport conformance', () => {
  it('the in-process transport passes every check', async () => {
    const outcomes = await runConformance(() => {
      const { se } = rig();
      loadSandboxCards(se);
      return inProcessTransport(se);
    });
    expect(outcomes.length).toBeGreaterThanOrEqual(7);
    expect(outcomes.filter((o) => !o.passed)).toEqual([]);
  });

  it('the suite notices a broken transport', async () => {
    const outcomes = await runConformance(() => ({ transmit: async () => fromHex('6F00') }));
    expect(outcomes.every((o) => !o.passed)).toBe(true);
  });
});

describe('never crashes', () => {
  it('any bytes as an APDU give a response ending in a valid status word (10,000 runs)', () => {
    const scp03 = {
      kvn: 0x30,
      enc: new Uint8Array(16).fill(1),
      mac: new Uint8Array(16).fill(2),
      dek: new Uint8Array(16),
    };
    const { se } = rig({ scp03 });
    loadSandboxCards(se);
    const prefix = fc.constantFrom(
      [],
      [0x00, 0xa4, 0x04, 0x00],
      [0x80, 0xa8, 0x00, 0x00],
      [0x00, 0xb2, 0x01, 0x0c],
      [0x80, 0xae, 0x80, 0x00],
      [0x80, 0x50, 0x30, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8],
      [0x84, 0x82, 0x01, 0x00, 0x10],
      [0x84, 0xf2, 0x40, 0x02],
      [0x80, 0xca, 0x9f, 0x7f],
    );
    const select = fc.constantFrom(
      'A0000000031010',
      'A0000000041010',
      '325041592E5359532E4444463031',
      'A000000151000000',
    );
    fc.assert(
      fc.property(select, prefix, fc.uint8Array({ maxLength: 300 }), (aid, head, tail) => {
        se.transmit(fromHex(`00A40400${(aid.length / 2).toString(16).padStart(2, '0')}${aid}00`));
        const response = se.transmit(Uint8Array.from([...head, ...tail]));
        expect(response.length).toBeGreaterThanOrEqual(2);
        expect(sw1Valid(response[response.length - 2]!)).toBe(true);
        return toHex(response).length >= 4;
      }),
      { numRuns: 10_000, seed: 5 },
    );
  });
});
