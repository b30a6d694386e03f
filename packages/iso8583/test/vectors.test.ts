import { fromHex, toHex } from '@amulet/bytes';
import { encodeTlv, type TlvNode } from '@amulet/tlv';
import { describe, expect, it } from 'vitest';
import {
  type MessageSpec,
  messageFromJson,
  pack,
  parseSpecJson,
  shippedSpecs,
  unpack,
} from '../src/index.ts';
import textPanDialect from './vectors/dialect-ascii-text-pan.json' with { type: 'json' };
import bcdPanDialect from './vectors/dialect-bcd-pan.json' with { type: 'json' };
import file from './vectors/iso8583.json' with { type: 'json' };

interface VectorCase {
  readonly id: string;
  readonly spec: string;
  readonly inputs: { readonly fields: Readonly<Record<string, string>> };
  readonly expected: {
    readonly encoded_hex?: string;
    readonly encoded_ascii_repr: string;
    readonly bitmap_fields_after_decode?: Readonly<Record<string, string>>;
  };
  readonly source: { readonly repo: string; readonly commit: string; readonly file: string };
}

const specs: Readonly<Record<string, MessageSpec>> = {
  ...shippedSpecs,
  'dialect-ascii-text-pan': parseSpecJson(textPanDialect),
  'dialect-bcd-pan': parseSpecJson(bcdPanDialect),
};

/** The expected bytes: hex when given, else the printable ASCII form. */
function expectedBytes(vector: VectorCase): Uint8Array {
  if (vector.expected.encoded_hex !== undefined) return fromHex(vector.expected.encoded_hex);
  return new TextEncoder().encode(vector.expected.encoded_ascii_repr);
}

function asHex(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return toHex(value);
  return toHex(encodeTlv(value as TlvNode[]));
}

describe('published ISO 8583 vectors (pyiso8583, moov-io)', () => {
  const vectors = file.vectors as readonly VectorCase[];

  it('covers every case of the file', () => {
    expect(vectors.length).toBe(file.count);
    expect(vectors.length).toBe(9);
  });

  for (const vector of vectors) {
    const spec = specs[vector.spec]!;
    const { t: mti, ...fields } = vector.inputs.fields;

    it(`${vector.id}: unpack gives the fields (${vector.source.repo})`, () => {
      const message = unpack(spec, expectedBytes(vector));
      expect(message.mti).toBe(mti);
      expect([...message.fields.keys()].sort((a, b) => a - b)).toEqual(Object.keys(fields).map(Number));
      for (const [number, value] of Object.entries(fields)) {
        expect(asHex(message.fields.get(Number(number)))).toBe(value);
      }
    });

    it(`${vector.id}: pack reproduces the exact bytes`, () => {
      const packed = pack(spec, messageFromJson(spec, { mti, fields }));
      expect(toHex(packed)).toBe(toHex(expectedBytes(vector)));
      const bitmaps = vector.expected.bitmap_fields_after_decode;
      if (bitmaps !== undefined) {
        // The ASCII bitmaps follow the 4-character MTI: primary 'p', then secondary '1'.
        const text = new TextDecoder().decode(packed);
        expect(text.slice(4, 20)).toBe(bitmaps.p);
        if (bitmaps['1'] !== undefined) expect(text.slice(20, 36)).toBe(bitmaps['1']);
      }
    });
  }
});
