import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApduRelay, RelayAbortedError } from '../src/index.ts';

/** A body that sends `count` commands [i] and returns the sum of the first byte of each response. */
function summing(count: number) {
  return async (transmit: (command: Uint8Array) => Promise<Uint8Array>): Promise<number> => {
    let sum = 0;
    for (let i = 0; i < count; i++) sum += (await transmit(Uint8Array.of(i)))[0] ?? 0;
    return sum;
  };
}

describe('ApduRelay (a straight-line APDU exchange driven one relay call at a time)', () => {
  it('property: hands out each command in order and ends with the body value', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 20 }), async (answers) => {
        const relay = new ApduRelay(summing(answers.length));
        let event = await relay.first();
        const seen: number[] = [];
        for (const answer of answers) {
          if (event.kind !== 'command') throw new Error(event.kind);
          seen.push(event.command[0] ?? -1);
          event = await relay.respond(Uint8Array.of(answer, 0x90, 0x00));
        }
        expect(seen).toEqual(answers.map((_, i) => i));
        expect(event).toEqual({ kind: 'done', value: answers.reduce((a, b) => a + b, 0) });
        expect(relay.finished).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('a body that throws ends with its error; a response with no command outstanding is refused', async () => {
    const failure = new Error('card said no');
    const relay = new ApduRelay(async (transmit) => {
      await transmit(Uint8Array.of(0));
      throw failure;
    });
    expect((await relay.first()).kind).toBe('command');
    expect(await relay.respond(Uint8Array.of(0x90, 0x00))).toEqual({ kind: 'error', error: failure });
    const late = await relay.respond(Uint8Array.of(0x90, 0x00));
    expect(late.kind === 'error' && late.error instanceof RelayAbortedError).toBe(true);
  });

  it('abort rejects the suspended transmit, so the body unwinds (its finally runs)', async () => {
    let cleaned = false;
    let caught: unknown;
    const relay = new ApduRelay(async (transmit) => {
      try {
        await transmit(Uint8Array.of(0));
        return 'unreachable';
      } catch (error) {
        caught = error;
        // A second transmit after the abort is refused at once, never handed out.
        await transmit(Uint8Array.of(1)).catch(() => undefined);
        return 'unwound';
      } finally {
        cleaned = true;
      }
    });
    expect((await relay.first()).kind).toBe('command');
    relay.abort();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(caught).toBeInstanceOf(RelayAbortedError);
    expect(cleaned).toBe(true);
    expect(relay.finished).toBe(true);
  });
});
