import { fromHex, toHex } from '@amulet/bytes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ApduError,
  decodeResponseApdu,
  describeStatusWord,
  encodeResponseApdu,
  isValidStatusWord,
  StatusWord,
} from '../src/index.ts';

describe('response APDUs', () => {
  it('splits data and status word, and joins them back', () => {
    expect(decodeResponseApdu(fromHex('6F009000'))).toEqual({ data: fromHex('6F00'), sw: 0x9000 });
    expect(decodeResponseApdu(fromHex('6A82'))).toEqual({ data: new Uint8Array(0), sw: 0x6a82 });
    expect(toHex(encodeResponseApdu({ data: fromHex('AB'), sw: StatusWord.SUCCESS }))).toBe('AB9000');
  });

  it('refuses short input and invalid SW1 with offsets', () => {
    for (const [hex, code, offset] of [
      ['90', 'ERR_APDU_TRUNCATED', 1],
      ['AB6000', 'ERR_APDU_STATUS', 1],
      ['0000', 'ERR_APDU_STATUS', 0],
      ['ABCD7000', 'ERR_APDU_STATUS', 2],
    ] as const) {
      try {
        decodeResponseApdu(fromHex(hex));
        expect.unreachable(hex);
      } catch (error) {
        expect(error).toBeInstanceOf(ApduError);
        expect([(error as ApduError).code, (error as ApduError).offset]).toEqual([code, offset]);
      }
    }
    expect(() => encodeResponseApdu({ data: new Uint8Array(0), sw: 0x10000 })).toThrow(ApduError);
    expect(() => encodeResponseApdu({ data: new Uint8Array(0), sw: 0x6000 })).toThrow(ApduError);
  });

  it('round-trips and never crashes (properties)', () => {
    const sw = fc.integer({ min: 0, max: 0xffff }).filter(isValidStatusWord);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), sw, (data, status) => {
        expect(decodeResponseApdu(encodeResponseApdu({ data, sw: status }))).toEqual({ data, sw: status });
      }),
      { numRuns: 10_000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        try {
          expect(encodeResponseApdu(decodeResponseApdu(bytes))).toEqual(bytes);
        } catch (error) {
          if (!(error instanceof ApduError)) throw error;
        }
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('status words', () => {
  it('describes every named constant from the table, not the fallback', () => {
    for (const [name, sw] of Object.entries(StatusWord)) {
      const described = describeStatusWord(sw);
      expect(described.sw, name).toBe(sw.toString(16).toUpperCase().padStart(4, '0'));
      expect(['Warning', 'Execution error', 'Checking error', 'Proprietary status'], name).not.toContain(
        described.meaning,
      );
    }
  });

  it('categorises by ISO/IEC 7816-4 table 5', () => {
    expect(describeStatusWord(0x9000)).toEqual({
      sw: '9000',
      meaning: 'Command completed normally',
      category: 'normal',
    });
    expect(describeStatusWord(0x6282).category).toBe('warning');
    expect(describeStatusWord(0x6581).category).toBe('execution-error');
    expect(describeStatusWord(0x6982).category).toBe('checking-error');
    expect(describeStatusWord(0x6a88).meaning).toMatch(/not found/);
    expect(describeStatusWord(0x6699)).toEqual({
      sw: '6699',
      meaning: 'Execution error',
      category: 'execution-error',
    });
    expect(describeStatusWord(0x6a99).category).toBe('checking-error');
  });

  it('fills in the counts of 61XX, 63CX and 6CXX', () => {
    expect(describeStatusWord(0x6110)).toMatchObject({ sw: '6110', category: 'normal' });
    expect(describeStatusWord(0x6110).meaning).toContain('16 response bytes');
    expect(describeStatusWord(0x6100).meaning).toContain('256 response bytes');
    expect(describeStatusWord(0x63c2).meaning).toContain('2 tries left');
    expect(describeStatusWord(0x63c0).meaning).toContain('0 tries left');
    expect(describeStatusWord(0x6c08)).toMatchObject({ category: 'checking-error' });
    expect(describeStatusWord(0x6c08).meaning).toContain('is 8');
  });

  it('refuses what is not a status word', () => {
    for (const sw of [-1, 0x10000, 0x6000, 0x0000, 0xa000, 1.5])
      expect(() => describeStatusWord(sw)).toThrow(ApduError);
  });
});
