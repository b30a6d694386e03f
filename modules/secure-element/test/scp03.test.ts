import { readFileSync } from 'node:fs';
import { fromHex, toHex } from '@amulet/bytes';
import { describe, expect, it } from 'vitest';
import { Scp03CardSession } from '../src/index.ts';

interface Step {
  readonly step: string;
  readonly apdu?: string;
  readonly host_challenge?: string;
  readonly response?: string;
  readonly sequence_counter?: string;
  readonly plain?: string;
  readonly wrapped?: string;
  readonly wrapped_response_data?: string;
  readonly plain_response_data?: string;
  readonly sw?: string;
}
interface Session {
  readonly id: string;
  readonly keyset: { kvn: string; enc: string; mac: string; dek: string };
  readonly steps: readonly Step[];
}

// Copied from the shared vector set with provenance; see test/vectors/scp03.json "source" fields.
const vectors = JSON.parse(readFileSync(new URL('./vectors/scp03.json', import.meta.url), 'utf8')) as {
  sessions: Session[];
};

/**
 * The sessions were recorded against an eUICC, whose security domain is the ISD-R (GSMA SGP.22
 * AID A0000005591010FFFFFFFF8900000100): the pseudo-random card challenge covers that AID.
 */
const ISD_R = fromHex('A0000005591010FFFFFFFF8900000100');

function open(session: Session): Scp03CardSession {
  const k = session.keyset;
  return new Scp03CardSession(
    { enc: fromHex(k.enc), mac: fromHex(k.mac), dek: fromHex(k.dek) },
    Number.parseInt(k.kvn, 16),
  );
}

describe('SCP03 card side against full sessions (GlobalPlatform Amendment D)', () => {
  for (const session of vectors.sessions) {
    it(session.id, () => {
      const card = open(session);
      const [init, initResponse, extAuth, ...rest] = session.steps;
      const counter = Number.parseInt(initResponse?.sequence_counter ?? '0', 16);
      const response = card.initializeUpdate(fromHex(init?.host_challenge ?? ''), counter, ISD_R);
      expect(toHex(response)).toBe(initResponse?.response);
      card.externalAuthenticate(fromHex(extAuth?.apdu ?? ''));
      for (const step of rest) {
        if (step.wrapped !== undefined && step.plain !== undefined) {
          expect(toHex(card.unwrapCommand(fromHex(step.wrapped))), step.step).toBe(step.plain);
        } else if (step.wrapped_response_data !== undefined) {
          const sw = Number.parseInt(step.sw ?? '9000', 16);
          const wrapped = card.wrapResponse(fromHex(step.plain_response_data ?? ''), sw);
          expect(toHex(wrapped), step.step).toBe(step.wrapped_response_data);
        }
      }
    });
  }

  it('refuses a wrong host cryptogram, a wrong C-MAC, and a command without C-MAC', () => {
    const session = vectors.sessions[0] as Session;
    const [init, initResponse, extAuth, wrapStep] = session.steps;
    const counter = Number.parseInt(initResponse?.sequence_counter ?? '0', 16);
    const fresh = () => {
      const card = open(session);
      card.initializeUpdate(fromHex(init?.host_challenge ?? ''), counter, ISD_R);
      return card;
    };
    const good = fromHex(extAuth?.apdu ?? '');
    for (const index of [6, 18]) {
      const bad = good.slice();
      bad[index]! ^= 1;
      expect(() => fresh().externalAuthenticate(bad)).toThrow(/authentication failed/);
    }
    // A lowered security level (C-MAC only instead of what the host MACed) changes the MAC input.
    const lowered = good.slice();
    lowered[2] = 0x01;
    expect(() => fresh().externalAuthenticate(lowered)).toThrow(/authentication failed/);
    const card = fresh();
    card.externalAuthenticate(good);
    const wrapped = fromHex(wrapStep?.wrapped ?? '');
    const tampered = wrapped.slice();
    tampered[tampered.length - 2]! ^= 1;
    expect(() => card.unwrapCommand(tampered)).toThrow(/MAC is wrong/);
    // The session is closed after a failure: even the right command is refused.
    expect(() => card.unwrapCommand(wrapped)).toThrow(/no secure channel/);
    const card2 = fresh();
    card2.externalAuthenticate(good);
    expect(() => card2.unwrapCommand(fromHex(wrapStep?.plain ?? ''))).toThrow(/not C-MAC/);
  });
});
