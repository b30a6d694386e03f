import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTlv, encodeTlv, TlvError } from '../src/index.ts';
import { tlvTreeArbitrary } from './arbitraries.ts';

function decodesOrThrowsTlvError(bytes: Uint8Array, options = {}): void {
  try {
    decodeTlv(bytes, options);
  } catch (error) {
    if (!(error instanceof TlvError)) throw error;
  }
}

describe('TLV properties', () => {
  it('decode(encode(tree)) gives the tree back', () => {
    fc.assert(
      fc.property(tlvTreeArbitrary, (nodes) => {
        expect(decodeTlv(encodeTlv(nodes))).toEqual(nodes);
      }),
      { numRuns: 10_000 },
    );
  });

  it('any bytes decode or give a TlvError, and what decodes re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        decodesOrThrowsTlvError(bytes);
        try {
          // Strict means canonical: without padding, there is one encoding per tree.
          expect(encodeTlv(decodeTlv(bytes, { allowTrailingPadding: false }))).toEqual(bytes);
        } catch (error) {
          if (!(error instanceof TlvError)) throw error;
        }
      }),
      { numRuns: 10_000 },
    );
  });

  it('damaged encodings (one byte changed, or cut short) decode or give a TlvError', () => {
    fc.assert(
      fc.property(tlvTreeArbitrary, fc.nat(), fc.nat(255), fc.boolean(), (nodes, at, byte, cut) => {
        const bytes = encodeTlv(nodes);
        if (bytes.length === 0) return;
        const damaged = cut ? bytes.subarray(0, at % bytes.length) : bytes.slice();
        if (!cut) damaged[at % bytes.length] = byte;
        decodesOrThrowsTlvError(damaged, { maxDepth: 3 });
      }),
      { numRuns: 10_000 },
    );
  });
});
