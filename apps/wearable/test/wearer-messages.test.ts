import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEVICE_COMMANDS,
  decodeWearerRequest,
  decodeWearerResponse,
  encodeWearerRequest,
  encodeWearerResponse,
  PIN_STATUSES,
  WEARER_APDU_BYTES_MAX,
  WEARER_MESSAGE_VERSION,
  WearableError,
  type WearerRequest,
  type WearerResponse,
} from '../src/index.ts';

const bytes = (min: number, max: number) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((b) => new Uint8Array(b));
const pin = fc.stringMatching(/^\d{4,12}$/);

const request: fc.Arbitrary<WearerRequest> = fc.oneof(
  pin.map((p) => ({ kind: 'enroll-pin' as const, pin: p })),
  pin.map((p) => ({ kind: 'verify-pin' as const, pin: p })),
  fc.record({ kind: fc.constant('attest' as const), nonce: bytes(1, 64), context: bytes(0, 300) }),
  fc.record({ kind: fc.constant('apdu' as const), command: bytes(4, 300) }),
  fc.record({
    kind: fc.constant('command' as const),
    command: fc.constantFrom(...DEVICE_COMMANDS),
    tokenReference: fc.string({ maxLength: 40 }),
  }),
  fc.constant({ kind: 'cards' as const }),
);

const response: fc.Arbitrary<WearerResponse> = fc.oneof(
  fc.record({
    kind: fc.constant('pin' as const),
    status: fc.constantFrom(...PIN_STATUSES),
    triesLeft: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('attestation' as const),
    chain: fc.array(bytes(1, 300), { minLength: 1, maxLength: 3 }),
    signature: bytes(1, 104),
    context: bytes(0, 256),
  }),
  fc.record({ kind: fc.constant('apdu' as const), response: bytes(2, 300) }),
  fc.constant({ kind: 'done' as const }),
  fc.record({
    kind: fc.constant('cards' as const),
    cards: fc.array(
      fc.record({
        id: fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/),
        aid: bytes(5, 16).map((b) => Buffer.from(b).toString('hex').toUpperCase()),
        status: fc.constantFrom('active' as const, 'suspended' as const),
        isDefault: fc.boolean(),
      }),
      { maxLength: 16 },
    ),
  }),
  fc.record({ kind: fc.constant('error' as const), code: fc.integer({ min: 0, max: 255 }) }),
);

describe('wearer messages: the one phone protocol, inside secure-link records', () => {
  it('round-trips every request and response, each starting with the version byte', () => {
    fc.assert(
      fc.property(request, (r) => {
        const encoded = encodeWearerRequest(r);
        expect(encoded[0]).toBe(WEARER_MESSAGE_VERSION);
        expect(decodeWearerRequest(encoded)).toEqual(r);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(response, (r) => {
        const encoded = encodeWearerResponse(r);
        expect(encoded[0]).toBe(WEARER_MESSAGE_VERSION);
        expect(decodeWearerResponse(encoded)).toEqual(r);
      }),
      { numRuns: 500 },
    );
  });

  it('gives a value or our one typed error for any bytes, never another exception', () => {
    fc.assert(
      fc.property(bytes(0, 200), (b) => {
        for (const decode of [decodeWearerRequest, decodeWearerResponse]) {
          try {
            decode(b);
          } catch (error) {
            expect(error).toBeInstanceOf(WearableError);
            expect((error as WearableError).code).toBe('ERR_WEARABLE_MESSAGE');
            expect((error as WearableError).message).toBe('malformed wearer message');
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses another version, trailing bytes, a truncated message, a bad PIN and an oversized APDU', () => {
    const pinMessage = encodeWearerRequest({ kind: 'verify-pin', pin: '123456' });
    expect(decodeWearerRequest(pinMessage)).toEqual({ kind: 'verify-pin', pin: '123456' });
    const otherVersion = pinMessage.slice();
    otherVersion[0] = 0x02;
    expect(() => decodeWearerRequest(otherVersion)).toThrow(WearableError);
    expect(() => decodeWearerRequest(new Uint8Array([...pinMessage, 0]))).toThrow(WearableError);
    expect(() => decodeWearerRequest(pinMessage.subarray(0, 5))).toThrow(WearableError);
    expect(() => encodeWearerRequest({ kind: 'enroll-pin', pin: '12a4' })).toThrow(WearableError);
    expect(() => decodeWearerRequest(Uint8Array.of(1, 0x02, 4, 0x31, 0x32, 0x33, 0x41))).toThrow(
      WearableError,
    );
    const apdu = new Uint8Array(WEARER_APDU_BYTES_MAX + 1);
    expect(() => encodeWearerRequest({ kind: 'apdu', command: apdu })).toThrow(WearableError);
    expect(
      decodeWearerRequest(encodeWearerRequest({ kind: 'apdu', command: apdu.subarray(1) })),
    ).toMatchObject({ kind: 'apdu' });
  });
});
