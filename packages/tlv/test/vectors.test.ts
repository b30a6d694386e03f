import { fromHex, toHex } from '@amulet/bytes';
import { describe, expect, it } from 'vitest';
import { decodeTlv, encodeTlv, encodeTlvLength, TlvError, type TlvNode } from '../src/index.ts';
import { readLength } from '../src/length.ts';
import { readTag } from '../src/tag.ts';
import file from './vectors/tlv.json' with { type: 'json' };

/** The published form of a tree: tag -> hex value, or tag -> nested object for a template. */
type PublishedTree = { [tag: string]: string | PublishedTree };

interface Decision {
  outcome: 'reject';
  code: string;
  offset: number;
  path: string[];
  opaqueTags?: string[];
}

interface Vector {
  id: string;
  kind: string;
  inputs: { data?: string; tlv?: PublishedTree; tag_bytes?: string; length?: number };
  expected: {
    tlv?: PublishedTree;
    data?: string;
    error_tag?: string;
    error_offset?: number;
    tag?: string;
    tag_length?: number;
    encoded?: string;
    top_level_tag_and_length?: [string, number][];
  };
  source: { repo: string; commit: string; file: string };
  amulet?: Decision;
}

const vectors = file.vectors as Vector[];

function toNodes(tree: PublishedTree): TlvNode[] {
  return Object.entries(tree).map(([tag, value]) =>
    typeof value === 'string' ? { tag, value: fromHex(value) } : { tag, children: toNodes(value) },
  );
}

function thrown(run: () => unknown): TlvError {
  try {
    run();
  } catch (error) {
    if (error instanceof TlvError) return error;
    throw error;
  }
  throw new Error('expected a TlvError');
}

function expectDecision(data: string, decision: Decision): void {
  const error = thrown(() => decodeTlv(fromHex(data)));
  expect(error.code).toBe(decision.code);
  expect(error.offset).toBe(decision.offset);
  expect(error.path).toEqual(decision.path);
}

describe('tlv.json vectors', () => {
  it('holds 61 cases, each with a source', () => {
    expect(vectors).toHaveLength(61);
    for (const vector of vectors) expect(vector.source.repo).toMatch(/\//);
  });

  for (const vector of vectors) {
    it(`${vector.id} (${vector.kind})`, () => {
      const { inputs, expected, amulet } = vector;
      switch (vector.kind) {
        case 'decode': {
          if (amulet !== undefined) return expectDecision(inputs.data!, amulet);
          const nodes = decodeTlv(fromHex(inputs.data!));
          expect(nodes).toEqual(toNodes(expected.tlv!));
          return;
        }
        case 'decode-must-fail': {
          if (amulet !== undefined) return expectDecision(inputs.data!, amulet);
          const error = thrown(() => decodeTlv(fromHex(inputs.data!)));
          expect(error.code).toBe('ERR_TLV_TRUNCATED');
          expect(error.offset).toBe(expected.error_offset);
          expect(error.path?.at(-1)).toBe(expected.error_tag);
          return;
        }
        case 'encode':
          expect(toHex(encodeTlv(toNodes(inputs.tlv!)))).toBe(expected.data);
          expect(decodeTlv(fromHex(expected.data!))).toEqual(toNodes(inputs.tlv!));
          return;
        case 'tag': {
          const bytes = fromHex(inputs.tag_bytes!);
          const { tag, next } = readTag(bytes, 0, bytes.length, []);
          expect(tag).toBe(expected.tag);
          expect(next).toBe(expected.tag_length);
          expect(decodeTlv(fromHex(`${inputs.tag_bytes}00`))[0]?.tag).toBe(expected.tag);
          return;
        }
        case 'length': {
          const encoded = encodeTlvLength(inputs.length!);
          expect(toHex(encoded)).toBe(expected.encoded);
          expect(readLength(encoded, 0, encoded.length, [], 65_535)).toEqual({
            length: inputs.length,
            next: encoded.length,
          });
          return;
        }
        case 'tag-or-length-must-fail': {
          const bytes = fromHex(inputs.data!);
          const asTag = bytes.length === 0 || (bytes[0]! & 0x1f) === 0x1f;
          const read = asTag
            ? () => readTag(bytes, 0, bytes.length, [])
            : () => readLength(bytes, 0, bytes.length, [], 65_535);
          expect(thrown(read).code).toBe('ERR_TLV_TRUNCATED');
          if (bytes.length === 0)
            expect(thrown(() => readLength(bytes, 0, 0, [], 65_535)).code).toBe('ERR_TLV_TRUNCATED');
          return;
        }
        default: {
          // The real field 55 sample: strict decoding refuses the vendor content of FF8105.
          expect(vector.id).toBe('moov.field55_real_world_with_vendor_tags');
          expectDecision(inputs.data!, amulet!);
          const nodes = decodeTlv(fromHex(inputs.data!), { opaqueTags: amulet!.opaqueTags! });
          expect(nodes.map((node) => [node.tag, node.value?.length])).toEqual(
            expected.top_level_tag_and_length,
          );
          expect(toHex(encodeTlv(nodes))).toBe(inputs.data);
        }
      }
    });
  }
});
