import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AmuletError,
  ByteReader,
  concat,
  constantTimeEqual,
  fromHex,
  isHex,
  orderedId,
  toHex,
  xor,
} from '../src/index.ts';

describe('hex', () => {
  it('round-trips any bytes, upper case out, either case in', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = toHex(bytes);
        expect(text).toBe(text.toUpperCase());
        expect(fromHex(text)).toEqual(bytes);
        expect(fromHex(text.toLowerCase())).toEqual(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it('spells every byte of inputs of any length as the digits written out, across its chunk and size boundaries', () => {
    const spelled = (bytes: Uint8Array) =>
      Array.from(bytes, (b) => '0123456789ABCDEF'[b >> 4]! + '0123456789ABCDEF'[b & 15]!).join('');
    for (const n of [0, 1, 2, 31, 32, 33, 8191, 8192, 8193, 20_000]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 151 + n) & 0xff);
      expect(toHex(bytes)).toBe(spelled(bytes));
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(8), (bytes, offset) => {
        // A view into a larger buffer, as decoders hand out.
        const view = new Uint8Array(offset + bytes.length + 3);
        view.set(bytes, offset);
        expect(toHex(view.subarray(offset, offset + bytes.length))).toBe(spelled(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects odd length and non-hex digits with the position, not the text', () => {
    expect(() => fromHex('ABC')).toThrow(expect.objectContaining({ code: 'ERR_HEX_LENGTH' }));
    try {
      fromHex('00G1');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AmuletError);
      expect((error as AmuletError).code).toBe('ERR_HEX_DIGIT');
      expect((error as AmuletError).offset).toBe(2);
      expect((error as AmuletError).message).not.toContain('G1');
    }
  });

  it('any string gives bytes or a typed error', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        try {
          const bytes = fromHex(text);
          expect(isHex(text)).toBe(true);
          expect(bytes.length).toBe(text.length / 2);
        } catch (error) {
          expect(error).toBeInstanceOf(AmuletError);
          expect(isHex(text)).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('orderedId', () => {
  it('is the prefix, 12 hex digits of milliseconds and the random part in lower-case hex', () => {
    expect(orderedId('tok', 0x18f_0000_abcd, fromHex('00FF10'))).toBe('tok_018f0000abcd00ff10');
    expect(orderedId('au', -5, new Uint8Array(1))).toBe('au_00000000000000');
  });

  it('sorts as the times do, whatever the random parts', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 47 }),
        fc.integer({ min: 1, max: 2 ** 20 }),
        fc.uint8Array({ minLength: 6, maxLength: 6 }),
        fc.uint8Array({ minLength: 6, maxLength: 6 }),
        (at, later, a, b) => {
          expect(orderedId('evt', at, a) < orderedId('evt', at + later, b)).toBe(true);
        },
      ),
    );
  });
});

describe('concat, xor, constantTimeEqual', () => {
  it('concatenates in order', () => {
    expect(toHex(concat(fromHex('01'), new Uint8Array(0), fromHex('0203')))).toBe('010203');
  });

  it('xor is its own inverse and refuses unequal lengths', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        (a, b) => {
          expect(xor(xor(a, b), b)).toEqual(a);
        },
      ),
    );
    expect(() => xor(new Uint8Array(1), new Uint8Array(2))).toThrow(
      expect.objectContaining({ code: 'ERR_XOR_LENGTH' }),
    );
  });

  it('compares equal and unequal arrays', () => {
    expect(constantTimeEqual(fromHex('0102'), fromHex('0102'))).toBe(true);
    expect(constantTimeEqual(fromHex('0102'), fromHex('0103'))).toBe(false);
    expect(constantTimeEqual(fromHex('0102'), fromHex('01'))).toBe(false);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 32 }), fc.uint8Array({ maxLength: 32 }), (a, b) => {
        expect(constantTimeEqual(a, b)).toBe(toHex(a) === toHex(b));
      }),
    );
  });
});

describe('ByteReader', () => {
  it('reads integers and views, and refuses to read past the end with the offset', () => {
    const reader = new ByteReader(fromHex('01020304050607'));
    expect(reader.readUint8()).toBe(1);
    expect(reader.readUint16()).toBe(0x0203);
    expect(reader.readUint32()).toBe(0x04050607);
    expect(reader.done).toBe(true);
    expect(() => reader.readUint8()).toThrow(
      expect.objectContaining({ code: 'ERR_READ_PAST_END', offset: 7 }),
    );
  });

  it('reads a full 32-bit value without going negative', () => {
    expect(new ByteReader(fromHex('FFFFFFFF')).readUint32()).toBe(0xffffffff);
  });

  it('respects a sub-range', () => {
    const reader = new ByteReader(fromHex('AABBCCDD'), 1, 3);
    expect(toHex(reader.readRest())).toBe('BBCC');
    expect(() => new ByteReader(new Uint8Array(2), 1, 3)).toThrow(
      expect.objectContaining({ code: 'ERR_READ_RANGE' }),
    );
  });

  it('never reads past the end for any sequence of reads', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 16 }),
        fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 20 }),
        (bytes, ops) => {
          const reader = new ByteReader(bytes);
          for (const op of ops) {
            try {
              if (op === 0) reader.readUint8();
              else if (op === 1) reader.readUint16();
              else if (op === 2) reader.readUint32();
              else reader.readBytes(op);
            } catch (error) {
              expect((error as AmuletError).code).toBe('ERR_READ_PAST_END');
            }
            expect(reader.offset).toBeLessThanOrEqual(bytes.length);
          }
        },
      ),
    );
  });
});
