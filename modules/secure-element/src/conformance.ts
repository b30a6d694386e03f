import { fromHex, toHex } from '@amulet/bytes';
import { verifyCryptogram } from '@amulet/emv';
import { sandboxCards } from './sandbox.ts';
import { tap } from './terminal.ts';
import type { SeTransport } from './transport.ts';

/**
 * The conformance suite every transport to the SE must pass. The factory returns a fresh
 * transport to an SE holding the sandbox cards in their published order (loadSandboxCards).
 * Each check throws on failure; `runConformance` reports them one by one.
 */
export interface ConformanceCheck {
  readonly name: string;
  run(transport: SeTransport): Promise<void>;
}

export interface ConformanceOutcome {
  readonly name: string;
  readonly passed: boolean;
  readonly reason?: string;
}

class ConformanceFailure extends Error {}

function expect(condition: boolean, reason: string): void {
  if (!condition) throw new ConformanceFailure(reason);
}

const sw = (response: Uint8Array): string => toHex(response.subarray(response.length - 2));

function verifies(result: Awaited<ReturnType<typeof tap>>): boolean {
  const card = sandboxCards.find((c) => c.pan === result.pan);
  if (card === undefined) return false;
  return verifyCryptogram({
    cvn: result.cvn,
    imk: card.imk,
    pan: result.pan,
    psn: result.psn,
    atc: result.atc,
    data: result.data,
    unpredictableNumber: new Uint8Array([1, 2, 3, 4]),
    cryptogram: result.cryptogram,
  });
}

export const conformanceChecks: readonly ConformanceCheck[] = [
  {
    name: 'SELECT PPSE answers 9000 with one entry per sandbox card, default first',
    async run(transport) {
      const response = await transport.transmit(fromHex('00A404000E325041592E5359532E444446303100'));
      expect(sw(response) === '9000', `SELECT PPSE answered ${sw(response)}`);
      const hex = toHex(response);
      const first = hex.indexOf('4F07A0000000031010');
      expect(
        first >= 0 && first < hex.indexOf('4F07A0000000041010'),
        'the default Visa card is not listed first',
      );
    },
  },
  {
    name: 'a qVSDC tap gives an ARQC that verifies under the sandbox issuer key',
    async run(transport) {
      const result = await tap((a) => transport.transmit(a), {
        amount: 1234,
        unpredictableNumber: new Uint8Array([1, 2, 3, 4]),
        aid: 'A0000000031010',
      });
      expect(result.cid === 0x80, 'the cryptogram is not an ARQC');
      expect(verifies(result), 'the cryptogram does not verify');
    },
  },
  {
    name: 'an M/Chip tap gives an ARQC that verifies under the sandbox issuer key',
    async run(transport) {
      const result = await tap((a) => transport.transmit(a), {
        amount: 500,
        unpredictableNumber: new Uint8Array([1, 2, 3, 4]),
        aid: 'A0000000041010',
      });
      expect(result.cid === 0x80, 'the cryptogram is not an ARQC');
      expect(verifies(result), 'the cryptogram does not verify');
    },
  },
  {
    name: 'the ATC increases from one tap to the next',
    async run(transport) {
      const options = { amount: 100, unpredictableNumber: new Uint8Array([1, 2, 3, 4]) };
      const a = await tap((x) => transport.transmit(x), options);
      const b = await tap((x) => transport.transmit(x), options);
      const n = (atc: Uint8Array) => ((atc[0] ?? 0) << 8) | (atc[1] ?? 0);
      expect(n(b.atc) === n(a.atc) + 1, 'the ATC did not move by one');
    },
  },
  {
    name: 'an unknown AID answers 6A82',
    async run(transport) {
      const response = await transport.transmit(
        Uint8Array.from([0x00, 0xa4, 0x04, 0x00, 0x05, 0xa0, 0, 0, 0, 0x99, 0x00]),
      );
      expect(toHex(response) === '6A82', `answered ${toHex(response)}`);
    },
  },
  {
    name: 'malformed APDUs get a bare status word',
    async run(transport) {
      const cases: Array<[number[], string]> = [
        [[], '6700'],
        [[0x00, 0xa4, 0x04], '6700'],
        [[0x00, 0xa4, 0x04, 0x00, 0x05, 0x01], '6700'],
        [[0x00, 0x60, 0x00, 0x00], '6D00'],
        [[0x00, 0x12, 0x00, 0x00], '6D00'],
        [[0xff, 0xa4, 0x04, 0x00], '6E00'],
      ];
      for (const [bytes, expected] of cases) {
        const response = await transport.transmit(Uint8Array.from(bytes));
        expect(toHex(response) === expected, `${toHex(Uint8Array.from(bytes))} answered ${toHex(response)}`);
      }
    },
  },
  {
    name: 'GET PROCESSING OPTIONS without a selected applet answers 6985',
    async run(transport) {
      await transport.transmit(Uint8Array.from([0x00, 0xa4, 0x04, 0x00, 0x05, 0xa0, 0, 0, 0, 0x99, 0x00]));
      const response = await transport.transmit(
        Uint8Array.from([0x80, 0xa8, 0x00, 0x00, 0x02, 0x83, 0x00, 0x00]),
      );
      expect(toHex(response) === '6985', `answered ${toHex(response)}`);
    },
  },
];

/** Runs every check against a fresh transport from the factory, and closes it. */
export async function runConformance(
  factory: () => Promise<SeTransport> | SeTransport,
): Promise<ConformanceOutcome[]> {
  const outcomes: ConformanceOutcome[] = [];
  for (const check of conformanceChecks) {
    const transport = await factory();
    try {
      await check.run(transport);
      outcomes.push({ name: check.name, passed: true });
    } catch (error) {
      outcomes.push({
        name: check.name,
        passed: false,
        reason: error instanceof Error ? error.message : 'failed',
      });
    } finally {
      await transport.close?.();
    }
  }
  return outcomes;
}
