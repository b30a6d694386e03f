import fc from 'fast-check';
import type { TlvNode } from '../src/index.ts';

/** Well-formed BER tags of 1 to 4 bytes, primitive or constructed, never starting with 00. */
export function tagArbitrary(constructed: boolean): fc.Arbitrary<string> {
  const hex = (bytes: number[]) => bytes.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join('');
  const classBits = fc.integer({ min: 0, max: 3 }).map((c) => (c << 6) | (constructed ? 0x20 : 0));
  const single = fc
    .tuple(classBits, fc.integer({ min: 0, max: 30 }))
    .filter(([bits, number]) => (bits | number) !== 0)
    .map(([bits, number]) => hex([bits | number]));
  const multi = fc
    .tuple(
      classBits,
      fc.array(fc.integer({ min: 0x80, max: 0xff }), { maxLength: 2 }),
      fc.integer({ min: 0, max: 0x7f }),
    )
    .map(([bits, middle, last]) => hex([bits | 0x1f, ...middle, last]));
  return fc.oneof(single, multi);
}

/** Trees of data objects up to 5 levels deep, values up to 300 bytes so long lengths occur. */
export const tlvTreeArbitrary: fc.Arbitrary<TlvNode[]> = fc.letrec<{ node: TlvNode; nodes: TlvNode[] }>(
  (tie) => ({
    node: fc.oneof(
      { depthSize: 'small', maxDepth: 4 },
      fc.record({ tag: tagArbitrary(false), value: fc.uint8Array({ maxLength: 300 }) }),
      fc.record({ tag: tagArbitrary(true), children: tie('nodes') }),
    ),
    nodes: fc.array(tie('node'), { maxLength: 4 }),
  }),
).nodes;
