import type { TlvNode } from '@amulet/tlv';
import { encodeTlv } from '@amulet/tlv';
import fc from 'fast-check';
import type { FieldSpec, FieldValue, Iso8583Message, MessageSpec } from '../src/index.ts';

/** Variable fields are generated up to this many units, so runs stay fast. */
const MAX_GENERATED_LENGTH = 48;

const digit = fc.constantFrom(...'0123456789');
const printable = fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code));

function characters(spec: FieldSpec): fc.Arbitrary<string> {
  if (spec.type === 'alphanumeric') return printable;
  if (spec.type === 'track')
    return spec.encoding === 'bcd' ? fc.constantFrom(...'0123456789D') : fc.constantFrom(...'0123456789=D');
  return digit;
}

function lengthRange(spec: FieldSpec): { minLength: number; maxLength: number } {
  if (spec.prefix.kind === 'fixed') return { minLength: spec.length, maxLength: spec.length };
  return { minLength: 0, maxLength: Math.min(spec.length, MAX_GENERATED_LENGTH) };
}

/** Well-formed BER tags, primitive or constructed, 1 to 3 bytes. */
function tag(constructed: boolean): fc.Arbitrary<string> {
  const hex = (bytes: number[]) => bytes.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join('');
  const classBits = fc.integer({ min: 0, max: 3 }).map((c) => (c << 6) | (constructed ? 0x20 : 0));
  const single = fc
    .tuple(classBits, fc.integer({ min: 0, max: 30 }))
    .filter(([bits, number]) => (bits | number) !== 0)
    .map(([bits, number]) => hex([bits | number]));
  const multi = fc
    .tuple(
      classBits,
      fc.option(fc.integer({ min: 0x81, max: 0xff }), { nil: undefined }),
      fc.integer({ min: 0, max: 0x7f }),
    )
    .map(([bits, middle, last]) =>
      hex(middle === undefined ? [bits | 0x1f, last] : [bits | 0x1f, middle, last]),
    );
  if (constructed) return fc.oneof(single, multi, fc.constantFrom('70', 'BF0C'));
  return fc.oneof(single, multi, fc.constantFrom('9F26', '9F27', '9F10', '5A', '57', '95', '9A'));
}

/** BER-TLV trees: primitive objects and templates, up to 3 levels. */
export const tlvTree: fc.Arbitrary<TlvNode[]> = fc.letrec<{ node: TlvNode; nodes: TlvNode[] }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    fc.record({ tag: tag(false), value: fc.uint8Array({ maxLength: 24 }) }),
    fc.record({ tag: tag(true), children: tie('nodes') }),
  ),
  nodes: fc.array(tie('node'), { maxLength: 5 }),
})).nodes;

/** Values the field's spec accepts, as `unpack` gives them back. */
export function fieldValueArbitrary(spec: FieldSpec): fc.Arbitrary<FieldValue> {
  switch (spec.type) {
    case 'numeric':
    case 'alphanumeric':
    case 'track': {
      const range = lengthRange(spec);
      return fc.array(characters(spec), range).map((chars) => chars.join(''));
    }
    case 'binary':
      return fc.uint8Array(lengthRange(spec));
    case 'composite': {
      const composite = spec.composite!;
      if (composite.kind === 'tlv') return tlvTree.filter((nodes) => encodeTlv(nodes).length <= spec.length);
      const entries = Object.entries(composite.subfields);
      return fc
        .tuple(...entries.map(([, subfield]) => fieldValueArbitrary(subfield)))
        .map((values) => new Map(values.map((value, i) => [entries[i]![0], value])));
    }
  }
}

/** Messages of `spec`: any MTI and any set of its fields, each with a value its spec accepts. */
export function messageArbitrary(spec: MessageSpec, maxFields = 24): fc.Arbitrary<Iso8583Message> {
  const numbers = Object.keys(spec.fields).map(Number);
  return fc
    .tuple(
      fc.array(digit, { minLength: 4, maxLength: 4 }).map((d) => d.join('')),
      fc.subarray(numbers, { maxLength: maxFields }),
    )
    .chain(([mti, chosen]) =>
      fc
        .tuple(...chosen.map((number) => fieldValueArbitrary(spec.fields[String(number)]!)))
        .map((values) => ({ mti, fields: new Map(values.map((value, i) => [chosen[i]!, value])) })),
    );
}
