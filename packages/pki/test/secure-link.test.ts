import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createChainVerifier,
  decodePhoneFinished,
  decodePhoneHello,
  decodeWearableHello,
  finishPhoneHandshake,
  LinkError,
  respondWearableHandshake,
  startPhoneHandshake,
} from '../src/index.ts';
import { ephemeral, linkedPair } from './helpers/linked-pair.ts';
import { NOW, type TestHierarchy, testHierarchy } from './helpers/test-hierarchy.ts';

let h: TestHierarchy;
beforeAll(async () => {
  h = await testHierarchy();
});

function code(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof LinkError ? error.code : `not a LinkError: ${String(error)}`;
  }
  return undefined;
}

const bytes = new TextEncoder();

describe('secure link handshake', () => {
  it('agrees on one SAS of six digits on both sides and carries data both ways', async () => {
    const pair = await linkedPair(h);
    expect(pair.sas[0]).toMatch(/^[0-9]{6}$/);
    expect(pair.sas[0]).toBe(pair.sas[1]);
    const toPhone = pair.phone.open(pair.wearable.seal(bytes.encode('PIN entry ready')));
    expect(toPhone).toEqual({ kind: 'data', data: bytes.encode('PIN entry ready') });
    const toWearable = pair.wearable.open(pair.phone.seal(bytes.encode('ok')));
    expect(toWearable).toEqual({ kind: 'data', data: bytes.encode('ok') });
  });

  it('two handshakes give two different SAS and keys (fresh ephemerals)', async () => {
    const a = await linkedPair(h);
    const b = await linkedPair(h);
    const record = a.wearable.seal(bytes.encode('x'));
    expect(code(() => b.phone.open(record))).toBe('ERR_LINK_RECORD');
  });

  async function wearableHello(chain: Uint8Array[], signer = h.device.key.signer) {
    const phone = startPhoneHandshake({
      ephemeralPrivateKey: ephemeral(),
      random: new Uint8Array(randomBytes(32)),
    });
    const wearable = await respondWearableHandshake({
      phoneHello: phone.message,
      ephemeralPrivateKey: ephemeral(),
      random: new Uint8Array(randomBytes(32)),
      chain,
      signer,
    });
    return { phone, wearable };
  }

  function check(tenantId = 'tenant-a') {
    const verifier = createChainVerifier({ trustAnchors: [h.root.der], tenantId });
    return (chain: readonly Uint8Array[]) =>
      verifier.verify({ chain, nowMs: NOW.getTime(), purpose: 'device', revocation: () => 'good' });
  }

  function peerReason(action: () => unknown): string | undefined {
    try {
      action();
    } catch (error) {
      return error instanceof LinkError ? `${error.code}:${error.reason}` : String(error);
    }
    return undefined;
  }

  it('the phone refuses a wearable of another tenant, with the chain reason', async () => {
    const { phone, wearable } = await wearableHello([h.device.der, h.deviceCaA.der]);
    expect(peerReason(() => finishPhoneHandshake(phone.state, wearable.message, check('tenant-b')))).toBe(
      'ERR_LINK_PEER:wrong-tenant',
    );
  });

  it('the phone refuses a wearable whose transcript signature is by another key', async () => {
    const { phone, wearable } = await wearableHello([h.device.der, h.deviceCaA.der], h.deviceCaA.key.signer);
    expect(peerReason(() => finishPhoneHandshake(phone.state, wearable.message, check()))).toBe(
      'ERR_LINK_PEER:bad-signature',
    );
  });

  it('any change to the wearable hello fails the handshake', async () => {
    const { phone, wearable } = await wearableHello([h.device.der, h.deviceCaA.der]);
    fc.assert(
      fc.property(fc.nat(wearable.message.length - 1), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const altered = wearable.message.slice();
        altered[at]! ^= flip;
        expect(() => finishPhoneHandshake(phone.state, altered, check())).toThrow(LinkError);
      }),
      { numRuns: 300 },
    );
  });

  it('decoders give a value or ERR_LINK_MESSAGE for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.integer({ min: 1, max: 3 }), (data, type) => {
        const framed = Uint8Array.of(type, 1, ...data);
        for (const input of [data, framed]) {
          for (const decode of [decodePhoneHello, decodeWearableHello, decodePhoneFinished]) {
            const result = code(() => decode(input));
            expect(result === undefined || result === 'ERR_LINK_MESSAGE').toBe(true);
          }
        }
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('secure link records', () => {
  it('any single altered byte is rejected and closes the session', async () => {
    const pair = await linkedPair(h);
    const records = [0, 1, 2].map((i) => pair.wearable.seal(bytes.encode(`record ${i}`)));
    await fc.assert(
      fc.asyncProperty(fc.nat(records[0]!.length - 1), fc.integer({ min: 1, max: 255 }), async (at, flip) => {
        const fresh = await linkedPair(h);
        const record = fresh.wearable.seal(bytes.encode('record 0'));
        const altered = record.slice();
        altered[at]! ^= flip;
        expect(code(() => fresh.phone.open(altered))).toBe('ERR_LINK_RECORD');
        expect(fresh.phone.closed).toBe(true);
        expect(code(() => fresh.phone.open(record))).toBe('ERR_LINK_CLOSED');
        expect(code(() => fresh.phone.seal(new Uint8Array(1)))).toBe('ERR_LINK_CLOSED');
      }),
      { numRuns: 40 },
    );
  });

  it('nothing decrypts twice: a replayed record ends the session', async () => {
    const pair = await linkedPair(h);
    const first = pair.wearable.seal(bytes.encode('one'));
    expect(pair.phone.open(first).kind).toBe('data');
    expect(code(() => pair.phone.open(first))).toBe('ERR_LINK_RECORD');
    expect(code(() => pair.phone.open(pair.wearable.seal(bytes.encode('two'))))).toBe('ERR_LINK_CLOSED');
  });

  it('property: for any sequence of sends and deliveries, each record opens at most once, in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(7), { minLength: 1, maxLength: 12 }), async (deliveries) => {
        const pair = await linkedPair(h);
        const sent = Array.from({ length: 8 }, (_, i) => pair.wearable.seal(Uint8Array.of(i)));
        const opened: number[] = [];
        for (const index of deliveries) {
          try {
            const result = pair.phone.open(sent[index]!);
            if (result.kind === 'data') opened.push(result.data[0]!);
          } catch (error) {
            expect(error).toBeInstanceOf(LinkError);
          }
        }
        // Opened values are exactly 0, 1, 2, ... with no repeats: nothing decrypts twice or out of order.
        expect(opened).toEqual(opened.map((_, i) => i));
      }),
      { numRuns: 60 },
    );
  });

  it('a reordered record is rejected', async () => {
    const pair = await linkedPair(h);
    pair.wearable.seal(bytes.encode('first'));
    const second = pair.wearable.seal(bytes.encode('second'));
    expect(code(() => pair.phone.open(second))).toBe('ERR_LINK_RECORD');
  });

  it('a record cut short is rejected', async () => {
    const pair = await linkedPair(h);
    const record = pair.wearable.seal(bytes.encode('complete'));
    expect(code(() => pair.phone.open(record.subarray(0, record.length - 1)))).toBe('ERR_LINK_RECORD');
  });

  it('a stream cut before the close record is truncation; after it, a clean end', async () => {
    const cut = await linkedPair(h);
    cut.phone.open(cut.wearable.seal(bytes.encode('a')));
    expect(code(() => cut.phone.end())).toBe('ERR_LINK_TRUNCATED');
    expect(code(() => cut.phone.seal(new Uint8Array(1)))).toBe('ERR_LINK_CLOSED');
    const clean = await linkedPair(h);
    expect(clean.phone.open(clean.wearable.close())).toEqual({ kind: 'close' });
    expect(code(() => clean.phone.end())).toBeUndefined();
    expect(code(() => clean.wearable.seal(new Uint8Array(1)))).toBe('ERR_LINK_CLOSED');
  });

  it('a record from the other direction is rejected (direction-separated keys)', async () => {
    const pair = await linkedPair(h);
    const own = pair.phone.seal(bytes.encode('echo'));
    expect(code(() => pair.phone.open(own))).toBe('ERR_LINK_RECORD');
  });

  it('refuses plaintext over 16384 bytes without closing', async () => {
    const pair = await linkedPair(h);
    expect(code(() => pair.wearable.seal(new Uint8Array(16_385)))).toBe('ERR_LINK_LIMIT');
    expect(pair.phone.open(pair.wearable.seal(new Uint8Array(16_384))).kind).toBe('data');
  });

  it('error messages carry no key or plaintext bytes', async () => {
    const pair = await linkedPair(h);
    const record = pair.wearable.seal(bytes.encode('SECRET-PIN-1234'));
    record[record.length - 1]! ^= 1;
    try {
      pair.phone.open(record);
    } catch (error) {
      expect((error as Error).message).toBe('secure link record rejected');
    }
  });
});
