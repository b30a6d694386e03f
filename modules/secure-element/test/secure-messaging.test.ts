import { readFileSync } from 'node:fs';
import { concat, fromHex, toHex } from '@amulet/bytes';
import { cmac } from '@amulet/emv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Scp03CardSession, Scp03HostChannel, scp03SessionKeys } from '../src/index.ts';

interface Step {
  readonly step: string;
  readonly apdu?: string;
  readonly host_challenge?: string;
  readonly response?: string;
  readonly card_challenge?: string;
  readonly plain?: string;
  readonly wrapped?: string;
  readonly wrapped_response_data?: string;
  readonly plain_response_data?: string;
  readonly sw?: string;
}
interface Session {
  readonly id: string;
  readonly keyset: { kvn: string; enc: string; mac: string; dek: string };
  readonly security_level: string;
  readonly steps: readonly Step[];
}
// The same osmocom/pysim sessions the card side is checked against (test/vectors/scp03.json).
const vectors = JSON.parse(readFileSync(new URL('./vectors/scp03.json', import.meta.url), 'utf8')) as {
  sessions: Session[];
};

function hostFor(session: Session): Scp03HostChannel {
  const [init, initResponse, extAuth] = session.steps;
  const response = fromHex(initResponse?.response ?? '');
  const keys = scp03SessionKeys(
    { enc: fromHex(session.keyset.enc), mac: fromHex(session.keyset.mac), dek: fromHex(session.keyset.dek) },
    fromHex(init?.host_challenge ?? ''),
    response.subarray(13, 21),
  );
  // The chaining value after EXTERNAL AUTHENTICATE is its full C-MAC (Amendment D 6.2.4).
  const ext = fromHex(extAuth?.apdu ?? '');
  const chaining = cmac('aes', keys.sMac, concat(new Uint8Array(16), ext.subarray(0, 13)));
  return new Scp03HostChannel(keys, chaining, Number.parseInt(session.security_level, 16));
}

describe('SCP03 secure messaging, host side, against full sessions', () => {
  for (const session of vectors.sessions) {
    it(session.id, () => {
      const host = hostFor(session);
      for (const step of session.steps.slice(3)) {
        if (step.wrapped !== undefined && step.plain !== undefined) {
          expect(toHex(host.wrapCommand(fromHex(step.plain))), step.step).toBe(step.wrapped);
        } else if (step.wrapped_response_data !== undefined) {
          const sw = Number.parseInt(step.sw ?? '9000', 16);
          const plain = host.unwrapResponse(fromHex(step.wrapped_response_data), sw);
          expect(toHex(plain), step.step).toBe(step.plain_response_data);
        }
      }
    });
  }

  it('a response with a changed byte or status word is refused, and the channel ends', () => {
    const session = vectors.sessions.find((s) => s.security_level === '33') as Session;
    const wrapStep = session.steps[3] as Step;
    const responseStep = session.steps[4] as Step;
    for (const mutate of ['data', 'sw'] as const) {
      const host = hostFor(session);
      host.wrapCommand(fromHex(wrapStep.plain ?? ''));
      const data = fromHex(responseStep.wrapped_response_data ?? '');
      if (mutate === 'data') data[3]! ^= 1;
      expect(() => host.unwrapResponse(data, mutate === 'sw' ? 0x9001 : 0x9000)).toThrow(
        /secure channel failed/,
      );
      expect(host.open).toBe(false);
      expect(() => host.wrapCommand(fromHex('80F22002'))).toThrow(/secure channel failed/);
    }
  });

  it('property: whatever a host wraps, the card unwraps to the same command, and back', () => {
    const keys = {
      sEnc: fromHex('00'.repeat(16)),
      sMac: fromHex('11'.repeat(16)),
      sRmac: fromHex('22'.repeat(16)),
    };
    const receipt = fromHex('33'.repeat(16));
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            ins: fc.constantFrom(0xe2, 0xe6, 0xf2, 0xca),
            data: fc.uint8Array({ minLength: 0, maxLength: 200 }),
            response: fc.uint8Array({ minLength: 0, maxLength: 200 }),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        (commands) => {
          const host = new Scp03HostChannel(keys, receipt, 0x33);
          const card = Scp03CardSession.established(keys, receipt, 0x33);
          for (const c of commands) {
            const plain =
              c.data.length === 0
                ? Uint8Array.of(0x80, c.ins, 0, 0, 0)
                : concat(Uint8Array.of(0x80, c.ins, 0, 0, c.data.length), c.data, Uint8Array.of(0));
            expect(toHex(card.unwrapCommand(host.wrapCommand(plain)))).toBe(toHex(plain));
            const wrapped = card.wrapResponse(c.response, 0x9000);
            expect(toHex(host.unwrapResponse(wrapped, 0x9000))).toBe(toHex(c.response));
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('never crashes on arbitrary response bytes: a value or the typed error', () => {
    const keys = {
      sEnc: fromHex('00'.repeat(16)),
      sMac: fromHex('11'.repeat(16)),
      sRmac: fromHex('22'.repeat(16)),
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 0xffff }), (data, sw) => {
        const host = new Scp03HostChannel(keys, new Uint8Array(16), 0x33);
        host.wrapCommand(fromHex('80F22002'));
        try {
          host.unwrapResponse(data, sw);
        } catch (error) {
          expect((error as { code?: string }).code).toBe('ERR_SE_CHANNEL');
        }
      }),
    );
  });
});
