import { fromHex, toHex } from '@amulet/bytes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ApduError,
  type CommandApdu,
  decodeCommandApdu,
  encodeCommandApdu,
  isValidIns,
} from '../src/index.ts';

function errorOf(run: () => unknown): ApduError {
  try {
    run();
  } catch (error) {
    if (error instanceof ApduError) return error;
    throw error;
  }
  throw new Error('expected an ApduError');
}

const header = { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00 };

describe('encodeCommandApdu (ISO/IEC 7816-4 5.1)', () => {
  it('picks the four short cases', () => {
    expect(toHex(encodeCommandApdu(header))).toBe('00A40400');
    expect(toHex(encodeCommandApdu({ ...header, le: 256 }))).toBe('00A4040000');
    expect(toHex(encodeCommandApdu({ ...header, le: 0 }))).toBe('00A4040000');
    expect(toHex(encodeCommandApdu({ ...header, le: 16 }))).toBe('00A4040010');
    expect(toHex(encodeCommandApdu({ ...header, data: fromHex('A0000000041010') }))).toBe(
      '00A4040007A0000000041010',
    );
    expect(toHex(encodeCommandApdu({ ...header, data: fromHex('A0000000041010'), le: 256 }))).toBe(
      '00A4040007A000000004101000',
    );
    expect(toHex(encodeCommandApdu({ ...header, data: new Uint8Array(0), le: 1 }))).toBe('00A4040001');
  });

  it('switches to extended lengths when needed, or when asked', () => {
    const data = new Uint8Array(256).fill(0xab);
    expect(toHex(encodeCommandApdu({ ...header, data })).slice(0, 14)).toBe('00A40400000100');
    expect(encodeCommandApdu({ ...header, data })).toHaveLength(4 + 3 + 256);
    expect(toHex(encodeCommandApdu({ ...header, le: 257 }))).toBe('00A40400000101');
    expect(toHex(encodeCommandApdu({ ...header, le: 65_536 }))).toBe('00A40400000000');
    expect(toHex(encodeCommandApdu({ ...header, data: fromHex('01'), le: 256 }, { extended: true }))).toBe(
      '00A404000000010101' + '00',
    );
    expect(errorOf(() => encodeCommandApdu({ ...header, data }, { extended: false })).code).toBe(
      'ERR_APDU_EXTENDED',
    );
    expect(errorOf(() => encodeCommandApdu({ ...header, le: 257 }, { extended: false })).code).toBe(
      'ERR_APDU_EXTENDED',
    );
  });

  it('refuses fields out of range', () => {
    for (const [apdu, code] of [
      [{ ...header, cla: 256 }, 'ERR_APDU_HEADER'],
      [{ ...header, p1: -1 }, 'ERR_APDU_HEADER'],
      [{ ...header, p2: 1.5 }, 'ERR_APDU_HEADER'],
      [{ ...header, ins: 0x61 }, 'ERR_APDU_INS'],
      [{ ...header, ins: 0x9f }, 'ERR_APDU_INS'],
      [{ ...header, le: 65_537 }, 'ERR_APDU_LE'],
      [{ ...header, le: -1 }, 'ERR_APDU_LE'],
      [{ ...header, data: new Uint8Array(65_536) }, 'ERR_APDU_DATA'],
      [{ ...header, data: [1, 2] }, 'ERR_APDU_DATA'],
    ] as const) {
      expect(errorOf(() => encodeCommandApdu(apdu as unknown as CommandApdu)).code).toBe(code);
    }
  });
});

describe('decodeCommandApdu (ISO/IEC 7816-4 5.1, table 2)', () => {
  it('recognises the seven body layouts', () => {
    expect(decodeCommandApdu(fromHex('00A40400'))).toEqual({ ...header, case: 1, extended: false });
    expect(decodeCommandApdu(fromHex('00A4040000'))).toEqual({
      ...header,
      le: 256,
      case: 2,
      extended: false,
    });
    expect(decodeCommandApdu(fromHex('00A4040002AABB'))).toEqual({
      ...header,
      data: fromHex('AABB'),
      case: 3,
      extended: false,
    });
    expect(decodeCommandApdu(fromHex('00A4040002AABB10'))).toMatchObject({
      le: 16,
      case: 4,
      extended: false,
    });
    expect(decodeCommandApdu(fromHex('00A40400000000'))).toMatchObject({
      le: 65_536,
      case: 2,
      extended: true,
    });
    expect(decodeCommandApdu(fromHex('00A40400000002AABB'))).toMatchObject({ case: 3, extended: true });
    expect(decodeCommandApdu(fromHex('00A40400000002AABB0101'))).toMatchObject({
      data: fromHex('AABB'),
      le: 257,
      case: 4,
      extended: true,
    });
  });

  it('refuses bodies that fit no case, with the offset of the length field', () => {
    for (const [hex, code, offset] of [
      ['00A404', 'ERR_APDU_TRUNCATED', 3],
      ['', 'ERR_APDU_TRUNCATED', 0],
      ['00A4040002AA', 'ERR_APDU_LENGTH', 4],
      ['00A4040002AABBCCDD', 'ERR_APDU_LENGTH', 4],
      ['00A404000000', 'ERR_APDU_LENGTH', 4],
      ['00A40400000000AA', 'ERR_APDU_LENGTH', 5],
      ['00A40400000002AA', 'ERR_APDU_LENGTH', 5],
      ['00A40400000002AABB01', 'ERR_APDU_LENGTH', 5],
      ['00600000', 'ERR_APDU_INS', 1],
    ] as const) {
      const error = errorOf(() => decodeCommandApdu(fromHex(hex)));
      expect([error.code, error.offset], hex).toEqual([code, offset]);
    }
    expect(errorOf(() => decodeCommandApdu('00A40400' as unknown as Uint8Array)).code).toBe('ERR_APDU_INPUT');
  });
});

const byte = fc.integer({ min: 0, max: 255 });
const commandArbitrary = fc.record(
  {
    cla: byte,
    ins: byte.filter(isValidIns),
    p1: byte,
    p2: byte,
    data: fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 300 }),
      fc.uint8Array({ minLength: 1, maxLength: 8 }),
    ),
    le: fc.oneof(fc.integer({ min: 1, max: 256 }), fc.integer({ min: 1, max: 65_536 })),
  },
  { requiredKeys: ['cla', 'ins', 'p1', 'p2'] },
);

describe('command APDU properties', () => {
  it('decode(encode(apdu)) gives the apdu back, short or extended', () => {
    fc.assert(
      fc.property(commandArbitrary, fc.boolean(), (apdu, extended) => {
        const needsExtended = (apdu.data?.length ?? 0) > 255 || (apdu.le ?? 0) > 256;
        const hasBody = apdu.data !== undefined || apdu.le !== undefined;
        const decoded = decodeCommandApdu(encodeCommandApdu(apdu, extended ? { extended } : {}));
        const { case: apduCase, extended: wasExtended, ...fields } = decoded;
        expect(fields).toEqual(apdu);
        expect(wasExtended).toBe(hasBody && (extended || needsExtended));
        expect(apduCase).toBe(1 + (apdu.le !== undefined ? 1 : 0) + (apdu.data !== undefined ? 2 : 0));
      }),
      { numRuns: 10_000 },
    );
  });

  it('any bytes decode or give an ApduError, and what decodes re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 12 }), fc.uint8Array({ maxLength: 400 })), (bytes) => {
        try {
          const { case: _case, extended, ...apdu } = decodeCommandApdu(bytes);
          expect(encodeCommandApdu(apdu, { extended })).toEqual(bytes);
        } catch (error) {
          if (!(error instanceof ApduError)) throw error;
        }
      }),
      { numRuns: 10_000 },
    );
  });
});
