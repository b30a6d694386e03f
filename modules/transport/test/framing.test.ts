import { concat } from '@amulet/bytes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, type LengthHeader, TransportError } from '../src/index.ts';

const headers: LengthHeader[] = ['binary-2', 'ascii-4'];
const ascii = (text: string) => new TextEncoder().encode(text);

/** Cuts bytes at the given positions (sorted, deduplicated, within range). */
function cut(bytes: Uint8Array, positions: number[]): Uint8Array[] {
  const points = [...new Set(positions.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(from, point));
    from = point;
  }
  return chunks;
}

describe('encodeFrame', () => {
  it('writes a two-byte big-endian length by default', () => {
    expect([...encodeFrame(ascii('abc'))]).toEqual([0x00, 0x03, 0x61, 0x62, 0x63]);
    expect([...encodeFrame(new Uint8Array(300)).subarray(0, 2)]).toEqual([0x01, 0x2c]);
  });

  it('writes four ASCII decimal digits when asked', () => {
    expect(new TextDecoder().decode(encodeFrame(ascii('hello'), { header: 'ascii-4' }))).toBe('0005hello');
  });

  it('refuses a message over the maximum', () => {
    expect(() => encodeFrame(new Uint8Array(9), { maxFrameBytes: 8 })).toThrow(
      expect.objectContaining({ code: 'ERR_FRAME_TOO_LARGE' }),
    );
  });

  it('refuses a maximum the header cannot express', () => {
    expect(() => new FrameDecoder({ header: 'ascii-4', maxFrameBytes: 10_000 })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS' }),
    );
    expect(() => new FrameDecoder({ maxFrameBytes: 0x10000 })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS' }),
    );
    expect(() => new FrameDecoder({ header: 'binary-2', maxFrameBytes: 0xffff })).not.toThrow();
  });
});

describe('FrameDecoder', () => {
  it('joins a frame split inside its header and body', () => {
    const decoder = new FrameDecoder();
    expect(decoder.push(Uint8Array.of(0x00))).toEqual([]);
    expect(decoder.hasPartialFrame).toBe(true);
    expect(decoder.push(Uint8Array.of(0x02, 0x41))).toEqual([]);
    expect(decoder.push(Uint8Array.of(0x42, 0x00))).toEqual([ascii('AB')]);
    expect(decoder.push(Uint8Array.of(0x01, 0x43))).toEqual([ascii('C')]);
    expect(decoder.hasPartialFrame).toBe(false);
  });

  it('returns zero-length frames as empty arrays', () => {
    const decoder = new FrameDecoder({ header: 'ascii-4' });
    expect(decoder.push(ascii('00000001X0000'))).toEqual([new Uint8Array(0), ascii('X'), new Uint8Array(0)]);
  });

  it('fails for good on a header that is not four digits, giving its offset', () => {
    const decoder = new FrameDecoder({ header: 'ascii-4' });
    expect(decoder.push(ascii('0001A'))).toEqual([ascii('A')]);
    let caught: unknown;
    try {
      decoder.push(ascii('00x1B'));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TransportError);
    expect((caught as TransportError).code).toBe('ERR_FRAME_HEADER');
    expect((caught as TransportError).offset).toBe(7);
    expect((caught as TransportError).message).not.toContain('00x1');
    expect(() => decoder.push(ascii('0001C'))).toThrow(expect.objectContaining({ code: 'ERR_FRAME_HEADER' }));
  });

  it('fails on a declared length over the maximum before reading the body', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 100 });
    expect(() => decoder.push(Uint8Array.of(0x00, 0x65))).toThrow(
      expect.objectContaining({ code: 'ERR_FRAME_TOO_LARGE', offset: 0 }),
    );
    expect(
      new FrameDecoder({ maxFrameBytes: 100 }).push(concat(Uint8Array.of(0, 100), new Uint8Array(100))),
    ).toHaveLength(1);
  });

  for (const header of headers) {
    it(`reproduces any frame sequence under any chunking (${header})`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }),
          fc.array(fc.nat(), { maxLength: 20 }),
          (frames, cuts) => {
            const stream = concat(...frames.map((frame) => encodeFrame(frame, { header })));
            const decoder = new FrameDecoder({ header });
            const out = cut(stream, cuts).flatMap((chunk) => decoder.push(chunk));
            expect(out.length).toBe(frames.length);
            out.forEach((frame, i) => {
              if (Buffer.compare(frame, frames[i]!) !== 0) expect(frame).toEqual(frames[i]);
            });
            expect(decoder.hasPartialFrame).toBe(false);
          },
        ),
        { numRuns: 10_000 },
      );
    });

    it(`gives frames or a TransportError for any bytes, never anything else (${header})`, () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 600 }),
          fc.array(fc.nat(), { maxLength: 10 }),
          (bytes, cuts) => {
            const decoder = new FrameDecoder({ header, maxFrameBytes: 256 });
            let total = 0;
            try {
              for (const chunk of cut(bytes, cuts)) {
                for (const frame of decoder.push(chunk)) {
                  expect(frame.length).toBeLessThanOrEqual(256);
                  total += frame.length;
                }
              }
              expect(total).toBeLessThanOrEqual(bytes.length);
            } catch (error) {
              expect(error).toBeInstanceOf(TransportError);
              expect(['ERR_FRAME_HEADER', 'ERR_FRAME_TOO_LARGE']).toContain((error as TransportError).code);
            }
          },
        ),
        { numRuns: 10_000 },
      );
    });
  }
});
