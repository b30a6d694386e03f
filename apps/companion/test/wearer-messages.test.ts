import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CompanionError,
  DEVICE_COMMANDS,
  decodeWearerRequest,
  decodeWearerResponse,
  encodeWearerRequest,
  encodeWearerResponse,
  PIN_STATUSES,
  type WearerRequest,
  type WearerResponse,
} from '../src/index.ts';

const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((b) => new Uint8Array(b));
const pin = fc.stringMatching(/^\d{4,12}$/);

const request: fc.Arbitrary<WearerRequest> = fc.oneof(
  pin.map((p) => ({ kind: 'enroll-pin' as const, pin: p })),
  pin.map((p) => ({ kind: 'verify-pin' as const, pin: p })),
  fc.record({ kind: fc.constant('attest' as const), nonce: bytes(64), context: bytes(300) }),
  fc.record({ kind: fc.constant('apdu' as const), command: bytes(300) }),
  fc.record({
    kind: fc.constant('command' as const),
    command: fc.constantFrom(...DEVICE_COMMANDS),
    tokenReference: fc.string({ maxLength: 40 }),
  }),
);

const response: fc.Arbitrary<WearerResponse> = fc.oneof(
  fc.record({
    kind: fc.constant('pin' as const),
    status: fc.constantFrom(...PIN_STATUSES),
    triesLeft: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('attestation' as const),
    chain: fc.array(
      fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => new Uint8Array(b)),
      { minLength: 1, maxLength: 3 },
    ),
    signature: bytes(104),
    context: bytes(256),
  }),
  fc.record({ kind: fc.constant('apdu' as const), response: bytes(300) }),
  fc.constant({ kind: 'done' as const }),
  fc.record({ kind: fc.constant('error' as const), code: fc.integer({ min: 0, max: 255 }) }),
);

describe('wearer messages (the records inside the secure link)', () => {
  it('round-trips every request and response', () => {
    fc.assert(
      fc.property(request, (r) => {
        expect(decodeWearerRequest(encodeWearerRequest(r))).toEqual(r);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(response, (r) => {
        expect(decodeWearerResponse(encodeWearerResponse(r))).toEqual(r);
      }),
      { numRuns: 500 },
    );
  });

  it('gives a value or our typed error for any bytes, never another exception', () => {
    fc.assert(
      fc.property(bytes(200), (b) => {
        for (const decode of [decodeWearerRequest, decodeWearerResponse]) {
          try {
            decode(b);
          } catch (error) {
            expect(error).toBeInstanceOf(CompanionError);
            expect((error as CompanionError).code).toBe('ERR_COMPANION_WEARABLE');
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses trailing bytes, a truncated message and a PIN that is not 4 to 12 digits', () => {
    const pinMessage = encodeWearerRequest({ kind: 'verify-pin', pin: '123456' });
    expect(() => decodeWearerRequest(new Uint8Array([...pinMessage, 0]))).toThrow(CompanionError);
    expect(() => decodeWearerRequest(pinMessage.subarray(0, 4))).toThrow(CompanionError);
    expect(() => encodeWearerRequest({ kind: 'enroll-pin', pin: '12a4' })).toThrow(/4 to 12 digits/);
    const bad = Uint8Array.of(0x02, 3, 0x31, 0x32, 0x33);
    expect(() => decodeWearerRequest(bad)).toThrow(CompanionError);
  });
});
