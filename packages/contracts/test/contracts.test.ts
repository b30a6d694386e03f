import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeTokenData,
  describeResponseCode,
  encodeTokenData,
  isApproval,
  isContactlessChip,
  originalDataElements,
  parseOriginalDataElements,
  ResponseCode,
  TokenDataError,
  TokenDataId,
} from '../src/index.ts';

const id = fc.stringMatching(/^[0-9A-Z]{2}$/);
const value = fc.stringMatching(/^[\x20-\x7e]{0,99}$/);

describe('field 48 token data', () => {
  it('writes id, two-digit length, value', () => {
    expect(
      encodeTokenData([
        [TokenDataId.par, 'ABC'],
        [TokenDataId.tokenRequestorId, '40000000001'],
      ]),
    ).toBe('0203ABC031140000000001');
  });

  it('round-trips any set of distinct subelements', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(id, value), { selector: ([k]) => k, maxLength: 8 }), (entries) => {
        const decoded = decodeTokenData(encodeTokenData(entries));
        expect([...decoded]).toEqual(entries);
      }),
    );
  });

  it('never throws anything but TokenDataError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          decodeTokenData(text);
        } catch (error) {
          expect(error).toBeInstanceOf(TokenDataError);
        }
      }),
    );
  });

  it('refuses a cut, a bad length, a repeat, with the offset', () => {
    expect(() => decodeTokenData('02')).toThrow(/cut short/);
    expect(() => decodeTokenData('02x1A')).toThrow(/two digits/);
    expect(() => decodeTokenData('0205AB')).toThrow(/past the end/);
    const repeated = (() => {
      try {
        decodeTokenData('0201A0201B');
      } catch (error) {
        return error as TokenDataError;
      }
      return undefined;
    })();
    expect(repeated?.offset).toBe(5);
    expect(() => encodeTokenData([['0', 'x']])).toThrow(/two characters/);
    expect(() => encodeTokenData([['01', 'x'.repeat(100)]])).toThrow(/99/);
    expect(() => encodeTokenData([['01', 'é']])).toThrow(/printable/);
  });
});

describe('field 90 original data elements', () => {
  it('round-trips', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9]{4}$/),
        fc.stringMatching(/^[0-9]{6}$/),
        fc.stringMatching(/^[0-9]{10}$/),
        fc.stringMatching(/^[0-9]{1,11}$/),
        (mti, stan, transmissionDateTime, acquirer) => {
          const text = originalDataElements({
            mti,
            stan,
            transmissionDateTime,
            acquiringInstitutionId: acquirer,
          });
          expect(text).toHaveLength(42);
          const parts = parseOriginalDataElements(text);
          expect(parts.mti).toBe(mti);
          expect(parts.stan).toBe(stan);
          expect(parts.transmissionDateTime).toBe(transmissionDateTime);
          expect(Number(parts.acquiringInstitutionId)).toBe(Number(acquirer));
          expect(parts.forwardingInstitutionId).toBe('0'.repeat(11));
        },
      ),
    );
  });

  it('refuses what is not 42 digits, and parts too long', () => {
    expect(() => parseOriginalDataElements('1'.repeat(41))).toThrow(RangeError);
    expect(() =>
      originalDataElements({
        mti: '01000',
        stan: '1',
        transmissionDateTime: '1',
        acquiringInstitutionId: '1',
      }),
    ).toThrow(/MTI/);
  });
});

describe('codes', () => {
  it('describes every code it names, and says when it does not know one', () => {
    for (const code of Object.values(ResponseCode)) expect(describeResponseCode(code)).not.toMatch(/unknown/);
    expect(describeResponseCode('Z9')).toMatch(/unknown/);
    expect(isApproval('00')).toBe(true);
    expect(isApproval('05')).toBe(false);
    expect(isApproval(undefined)).toBe(false);
    expect(isContactlessChip('071')).toBe(true);
    expect(isContactlessChip('051')).toBe(false);
  });
});
