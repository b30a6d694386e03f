import { ECDH, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPlainEcPoint } from '../src/ec-point-check.ts';
import { PkiError, publicKeyFromSpki } from '../src/index.ts';

/** What OpenSSL says of an SPKI, through the import parseCertificate used to make at once. */
function opensslTakes(spki: Uint8Array): boolean {
  try {
    publicKeyFromSpki(spki);
    return true;
  } catch (error) {
    expect(error).toBeInstanceOf(PkiError);
    return false;
  }
}

const spkiOf = (curve: 'P-256' | 'P-384') =>
  new Uint8Array(
    generateKeyPairSync('ec', { namedCurve: curve }).publicKey.export({ format: 'der', type: 'spki' }),
  );

describe('the on-curve check that lets parseCertificate import a key later', () => {
  const keys = [
    ...Array.from({ length: 50 }, () => spkiOf('P-256')),
    ...Array.from({ length: 50 }, () => spkiOf('P-384')),
  ];

  it('takes every P-256 and P-384 key OpenSSL makes (its constants are the curves)', () => {
    for (const spki of keys) expect(isPlainEcPoint(spki)).toBe(true);
  });

  it('takes nothing OpenSSL would refuse, on damaged keys', () => {
    let refusedByBoth = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...keys),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
        (base, edits) => {
          const spki = base.slice();
          for (const [at, value] of edits) spki[at % spki.length] = value;
          const plain = isPlainEcPoint(spki);
          const taken = opensslTakes(spki);
          if (plain) expect(taken).toBe(true);
          if (!plain && !taken) refusedByBoth++;
        },
      ),
      { numRuns: 1500 },
    );
    expect(refusedByBoth).toBeGreaterThan(500);
  });

  it('leaves other forms to OpenSSL: a compressed point, a point off the curve, a coordinate above p', () => {
    const full = keys[0]!;
    // The same key with its point compressed (SEC 1 2.3.3), in an SPKI built by hand.
    const compressedPoint = ECDH.convertKey(
      full.subarray(26),
      'prime256v1',
      undefined,
      undefined,
      'compressed',
    ) as Buffer;
    const compressed = new Uint8Array([
      ...Buffer.from('3039301306072A8648CE3D020106082A8648CE3D030107032200', 'hex'),
      ...compressedPoint,
    ]);
    expect([isPlainEcPoint(compressed), opensslTakes(compressed)]).toEqual([false, true]);
    const offCurve = full.slice();
    offCurve[offCurve.length - 1]! ^= 1;
    expect([isPlainEcPoint(offCurve), opensslTakes(offCurve)]).toEqual([false, false]);
    const above = full.slice();
    above.fill(0xff, 27, 59); // x = 2^256 - 1 > p
    expect([isPlainEcPoint(above), opensslTakes(above)]).toEqual([false, false]);
  });
});
