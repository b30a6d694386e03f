import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PkiError, parseCertificate, parseOcspRequest, verifyCsr } from '../src/index.ts';

/** Any bytes: a value or our typed error, never a TypeError/RangeError from below. */
function typedOnly(parse: (bytes: Uint8Array) => unknown) {
  return (bytes: Uint8Array) => {
    try {
      parse(bytes);
    } catch (error) {
      expect(error).toBeInstanceOf(PkiError);
    }
  };
}

const derish = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.uint8Array({ maxLength: 200 }).map((body) => Uint8Array.of(0x30, 0x81, body.length, ...body)),
);

describe('parsers never crash', () => {
  for (const [name, parse] of [
    ['parseCertificate', parseCertificate],
    ['verifyCsr', verifyCsr],
    ['parseOcspRequest', parseOcspRequest],
  ] as const) {
    it(name, () => {
      fc.assert(fc.property(derish, typedOnly(parse)), { numRuns: 10_000 });
    });
  }
});
