import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeDeviceAttributes, encodeDeviceAttributes, PkiError, SE_TYPES } from '../src/index.ts';

const identifier = fc.stringMatching(/^[A-Za-z0-9 ._:-]{1,64}$/);
const attributes = fc.record({
  oemId: identifier,
  model: identifier,
  seType: fc.constantFrom(...SE_TYPES),
  tenantId: identifier,
});

describe('device attributes extension', () => {
  it('encodes the documented DER layout', () => {
    const der = encodeDeviceAttributes({
      oemId: 'ACME',
      model: 'Band 2',
      seType: 'embedded',
      tenantId: 'acme',
    });
    expect(Buffer.from(der).toString('hex')).toBe(
      '301e0c0441434d450c0642616e6420320c08656d6265646465640c0461636d65',
    );
  });

  it('round-trips', () => {
    fc.assert(
      fc.property(attributes, (value) => {
        expect(decodeDeviceAttributes(encodeDeviceAttributes(value))).toEqual(value);
      }),
      { numRuns: 10_000 },
    );
  });

  it('never crashes: any bytes give attributes or a PkiError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        try {
          decodeDeviceAttributes(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(PkiError);
        }
      }),
      { numRuns: 10_000 },
    );
  });

  it('refuses an unknown SE type and overlong fields, naming the field only', () => {
    expect(() =>
      encodeDeviceAttributes({ oemId: 'A', model: 'B', seType: 'cloud' as 'embedded', tenantId: 'T' }),
    ).toThrow(/seType must be one of/);
    try {
      encodeDeviceAttributes({ oemId: 'SECRET'.repeat(20), model: 'B', seType: 'embedded', tenantId: 'T' });
    } catch (error) {
      expect((error as PkiError).code).toBe('ERR_PKI_ATTRIBUTE');
      expect((error as PkiError).message).not.toContain('SECRET');
    }
  });
});
