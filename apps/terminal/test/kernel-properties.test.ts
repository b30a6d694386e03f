import { toHex } from '@amulet/bytes';
import type { SeTransport } from '@amulet/secure-element';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultKernelConfig, readCard } from '../src/index.ts';
import { wearable } from './support/wearable.ts';

const txn = { amount: 1234, unpredictableNumber: new Uint8Array([1, 2, 3, 4]), date: '261203' };

/** What the real SE answers in a tap, recorded once, so mutations start from plausible data. */
async function recordedAnswers(id: string): Promise<Uint8Array[]> {
  const w = wearable([id]);
  const answers: Uint8Array[] = [];
  const recorder: SeTransport = {
    transmit: async (apdu) => {
      const answer = await w.transport.transmit(apdu);
      answers.push(answer);
      return answer;
    },
  };
  await readCard(recorder, txn, defaultKernelConfig);
  return answers;
}

describe('the kernel never crashes on what a card answers', () => {
  it('random answers: an outcome or an online request, never a throw', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 8 }), async (script) => {
        let call = 0;
        const card: SeTransport = { transmit: async () => script[call++] ?? new Uint8Array([0x6f, 0x00]) };
        const read = await readCard(card, txn, defaultKernelConfig);
        expect(['online', 'outcome']).toContain(read.kind);
      }),
      { numRuns: 500 },
    );
  });

  for (const id of ['sandbox-visa-cvn18', 'sandbox-mastercard-cvn17']) {
    it(`${id}: every single-byte corruption of a real exchange ends cleanly`, async () => {
      const answers = await recordedAnswers(id);
      await fc.assert(
        fc.asyncProperty(
          fc.nat({ max: answers.length - 1 }),
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          async (which, at, flip) => {
            const script = answers.map((a) => a.slice());
            const target = script[which]!;
            target[at % target.length] = target[at % target.length]! ^ flip;
            let call = 0;
            const card: SeTransport = {
              transmit: async () => script[call++] ?? new Uint8Array([0x6f, 0x00]),
            };
            const read = await readCard(card, txn, defaultKernelConfig);
            expect(['online', 'outcome']).toContain(read.kind);
            if (read.kind === 'online') expect(toHex(read.card.cryptogram)).toMatch(/^[0-9A-F]*$/);
          },
        ),
        { numRuns: 400 },
      );
    });
  }
});
