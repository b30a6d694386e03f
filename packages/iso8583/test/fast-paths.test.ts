import { fromHex, toHex } from '@amulet/bytes';
import { decodeTlv, encodeTlv, type TlvNode } from '@amulet/tlv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../src/byte-writer.ts';
import {
  type FieldValue,
  iso8583Ascii1987,
  iso8583Binary1987,
  type MessageSpec,
  pack,
  unpack,
} from '../src/index.ts';
import { decodeTlvField, encodeTlvField } from '../src/tlv-field.ts';
import { messageArbitrary, tlvTree } from './arbitraries.ts';

const RUNS = 10_000;

/** What `action` gives, or the code, path and offset of what it throws. */
function outcome<T>(action: () => T): T | { error: unknown } {
  try {
    return action();
  } catch (error) {
    const { code, path, offset, message } = error as {
      code?: string;
      path?: unknown;
      offset?: number;
      message?: string;
    };
    return { error: { code, path, offset, message } };
  }
}

/** Field 55 bytes: well-formed data objects, possibly damaged or cut, or any bytes. */
const iccBytes = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc
    .tuple(
      tlvTree,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
      fc.nat(),
    )
    .map(([nodes, changes, cut]) => {
      const bytes = encodeTlv(nodes);
      for (const [at, byte] of changes) if (bytes.length > 0) bytes[at % bytes.length] = byte;
      return bytes.subarray(0, bytes.length === 0 ? 0 : cut % (bytes.length + 1));
    }),
);

describe('the field 55 fast path gives what @amulet/tlv gives', () => {
  it('decoding: the same data objects, or the same error', () => {
    fc.assert(
      fc.property(iccBytes, fc.nat({ max: 8 }), (bytes, before) => {
        // The field sits inside a message: offsets must stay relative to the field.
        const message = new Uint8Array(before + bytes.length + 3);
        message.set(bytes, before);
        const fast = outcome(() => decodeTlvField(message, before, before + bytes.length));
        const full = outcome(() => decodeTlv(bytes, { allowTrailingPadding: false }));
        expect(fast).toEqual(full);
      }),
      { numRuns: RUNS },
    );
  });

  it('decoded values are copies: changing the input later leaves them as they were', () => {
    const bytes = Uint8Array.of(0x9f, 0x26, 0x02, 0x12, 0x34, 0x95, 0x01, 0x80);
    const nodes = decodeTlvField(bytes, 0, bytes.length);
    bytes.fill(0);
    expect(nodes.map((node) => `${node.tag}:${toHex(node.value!)}`)).toEqual(['9F26:1234', '95:80']);
  });

  it('encoding: the same bytes, or the same error', () => {
    const oddNodes = fc.oneof(
      tlvTree,
      fc.array(
        fc.oneof(
          fc.record({
            tag: fc.constantFrom('9f26', '9F26', '5A', '1F', '00', 'XYZ', '9F8001'),
            value: fc.uint8Array({ maxLength: 200 }),
          }),
          fc.record({ tag: fc.constantFrom('9F02', '70') }),
          fc.constant(null),
          fc.record({ tag: fc.constant('9F27'), value: fc.constant('80') }),
        ),
        { maxLength: 4 },
      ),
    ) as fc.Arbitrary<TlvNode[]>;
    fc.assert(
      fc.property(oddNodes, (nodes) => {
        const writer = new ByteWriter(64);
        writer.begin();
        const fast = outcome(() => {
          const length = encodeTlvField(nodes, writer);
          return toHex(writer.bytes.subarray(0, length));
        });
        const full = outcome(() => toHex(encodeTlv(nodes)));
        expect(fast).toEqual(full);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('the field 55 encoder remembers the tags of the last field by position', () => {
  it('and still refuses, as encodeTlv does, a bad tag where a good one was before', () => {
    const value = Uint8Array.of(0x12);
    const lists = [
      [{ tag: '9F26', value }],
      [{ tag: undefined, value }],
      [{ tag: '9F26', value }],
      [{ tag: 0x9f26, value }],
      [{ tag: '9f26', value }],
      [{ tag: '9F2', value }],
      [{ tag: '95', value }],
    ] as unknown as TlvNode[][];
    for (const nodes of lists) {
      const writer = new ByteWriter(64);
      writer.begin();
      const fast = outcome(() => toHex(writer.bytes.subarray(0, encodeTlvField(nodes, writer))));
      expect(fast).toEqual(outcome(() => toHex(encodeTlv(nodes))));
    }
  });
});

describe('pack results', () => {
  it('stay as they were while many more messages, large and small, are packed', () => {
    const spec: MessageSpec = {
      ...iso8583Ascii1987,
      name: 'large-fields',
      fields: {
        ...iso8583Ascii1987.fields,
        62: {
          description: 'Large private field',
          type: 'binary',
          encoding: 'binary',
          length: 9999,
          prefix: { kind: 'LLLL', encoding: 'ascii' },
        },
      },
    };
    const packed: [Uint8Array, string][] = [];
    for (let i = 0; i < 400; i++) {
      const size = i % 7 === 0 ? 9000 : i % 13;
      const fields = new Map<number, FieldValue>([
        [11, String(i).padStart(6, '0')],
        [62, new Uint8Array(size).fill(i & 0xff)],
      ]);
      const bytes = pack(spec, { mti: '0200', fields });
      packed.push([bytes, toHex(bytes)]);
      expect(unpack(spec, bytes).fields.get(11)).toBe(String(i).padStart(6, '0'));
    }
    for (const [bytes, hex] of packed) expect(toHex(bytes)).toBe(hex);
  });

  it('a failed pack leaves no trace in the next message', () => {
    const good = { mti: '0200', fields: new Map<number, FieldValue>([[11, '000001']]) };
    const expected = toHex(pack(iso8583Ascii1987, good));
    expect(() =>
      pack(iso8583Ascii1987, { mti: '0200', fields: new Map<number, FieldValue>([[2, '4761X']]) }),
    ).toThrow();
    expect(toHex(pack(iso8583Ascii1987, good))).toBe(expected);
  });
});

/** A spec with BCD and ASCII fields of one to four digits, padded on either side. */
const shortDigits: MessageSpec = {
  ...iso8583Binary1987,
  name: 'short-digits',
  fields: {
    2: { ...iso8583Binary1987.fields['2']!, length: 4 },
    3: { ...iso8583Binary1987.fields['22']!, length: 3 },
    4: { ...iso8583Binary1987.fields['35']!, length: 4 },
    5: {
      description: 'Three digits, padded on the right with 0',
      type: 'numeric',
      encoding: 'bcd',
      length: 3,
      prefix: { kind: 'fixed' },
      padding: { side: 'right', fill: '0' },
    },
    6: { ...iso8583Ascii1987.fields['2']!, length: 4 },
    7: {
      description: 'Up to four characters',
      type: 'alphanumeric',
      encoding: 'ascii',
      length: 4,
      prefix: { kind: 'LL', encoding: 'ascii' },
    },
  },
};

describe('short runs of digits, whose strings are made once', () => {
  it('give the same text as the long way, for every value and both pad sides', () => {
    fc.assert(
      fc.property(messageArbitrary(shortDigits, 6), (message) => {
        expect(unpack(shortDigits, pack(shortDigits, message)).fields).toEqual(message.fields);
      }),
      { numRuns: RUNS },
    );
  });

  it('a bad nibble is still reported at the first byte that holds one', () => {
    const bytes = pack(shortDigits, { mti: '0200', fields: new Map<number, FieldValue>([[2, '1234']]) });
    // MTI (2 bytes), bitmap (8), prefix (1), then 12 34: make the second byte 3A.
    bytes[12] = 0x3a;
    expect(outcome(() => unpack(shortDigits, bytes))).toMatchObject({ error: { path: ['2'], offset: 12 } });
    // Field 4 of the binary spec, 12 digits in 6 bytes read two bytes at a time: 3 and 4 bad.
    const amount = pack(iso8583Binary1987, {
      mti: '0200',
      fields: new Map<number, FieldValue>([[4, '000000001250']]),
    });
    amount[10 + 3] = 0xa0;
    amount[10 + 4] = 0x0b;
    expect(outcome(() => unpack(iso8583Binary1987, amount))).toMatchObject({
      error: { path: ['4'], offset: 13 },
    });
  });
});

describe('BCD fields packed two digits at a time', () => {
  it('name the first character the field does not allow, wherever it stands in its pair', () => {
    for (const [value, position] of [
      ['12A4', 3],
      ['1A34', 2],
      ['A234', 1],
      ['123A', 4],
      ['12\u00e94', 3],
      ['1AA4', 2],
    ] as const) {
      const fields = new Map<number, FieldValue>([[13, value]]);
      expect(outcome(() => pack(iso8583Binary1987, { mti: '0200', fields }))).toMatchObject({
        error: {
          code: 'ERR_ISO8583_PACK',
          message: `cannot pack field 13: character ${position} is not allowed in a numeric field`,
        },
      });
    }
  });
});

describe('pack takes the values in number order', () => {
  it('gives the same bytes whatever order the Map holds its fields in', () => {
    const fields: [number, FieldValue][] = [
      [2, '5413330089600010'],
      [4, '000000001250'],
      [11, '004217'],
      [41, 'TERM0001'],
      [70, '301'],
    ];
    for (const spec of [iso8583Ascii1987, iso8583Binary1987]) {
      const inOrder = toHex(pack(spec, { mti: '0800', fields: new Map(fields) }));
      const reversed = toHex(pack(spec, { mti: '0800', fields: new Map([...fields].reverse()) }));
      const shuffled = toHex(
        pack(spec, {
          mti: '0800',
          fields: new Map([fields[2]!, fields[0]!, fields[4]!, fields[1]!, fields[3]!]),
        }),
      );
      expect(reversed).toBe(inOrder);
      expect(shuffled).toBe(inOrder);
      expect(unpack(spec, fromHex(inOrder)).fields).toEqual(new Map(fields));
    }
  });
});
