import { toHex } from '@amulet/bytes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Iso8583Error, iso8583Ascii1987, iso8583Binary1987, pack, unpack } from '../src/index.ts';
import { messageArbitrary } from './arbitraries.ts';

const RUNS = 10_000;

/** Random bytes, or a packed message with some bytes changed or cut short. */
function hostileBytes(spec: typeof iso8583Ascii1987): fc.Arbitrary<Uint8Array> {
  const damaged = fc
    .tuple(
      messageArbitrary(spec, 8),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.option(fc.nat(), { nil: undefined }),
    )
    .map(([message, changes, cut]) => {
      const bytes = pack(spec, message).slice();
      for (const [at, byte] of changes) bytes[at % bytes.length] = byte;
      return cut === undefined ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
    });
  return fc.oneof(fc.uint8Array({ maxLength: 400 }), damaged);
}

for (const spec of [iso8583Ascii1987, iso8583Binary1987]) {
  describe(`properties of ${spec.name}`, () => {
    it('unpack(pack(m)) gives m back, and packing again gives the same bytes', () => {
      fc.assert(
        fc.property(messageArbitrary(spec), (message) => {
          const bytes = pack(spec, message);
          const back = unpack(spec, bytes);
          expect(back.mti).toBe(message.mti);
          expect(back.fields).toEqual(message.fields);
          expect(toHex(pack(spec, back))).toBe(toHex(bytes));
        }),
        { numRuns: RUNS },
      );
    });

    it('any bytes give a message or an Iso8583Error, and a message packs and unpacks to itself', () => {
      fc.assert(
        fc.property(hostileBytes(spec), (bytes) => {
          let message: ReturnType<typeof unpack>;
          try {
            message = unpack(spec, bytes);
          } catch (error) {
            expect(error).toBeInstanceOf(Iso8583Error);
            return;
          }
          // What unpacks must pack (moov-io's fuzzing rule), and unpack again to the same message.
          const again = unpack(spec, pack(spec, message));
          expect(again.mti).toBe(message.mti);
          expect(again.fields).toEqual(message.fields);
        }),
        { numRuns: RUNS },
      );
    });
  });
}
