import { fromHex, toHex } from '@amulet/bytes';
import { describe, expect, it } from 'vitest';
import {
  createMessage,
  type FieldValue,
  getBytes,
  getEmvValue,
  getSubfields,
  getText,
  getTlv,
  Iso8583Error,
  iso8583Ascii1987,
  iso8583Binary1987,
  type MessageSpec,
  pack,
  parseSpecJson,
  unpack,
} from '../src/index.ts';
import example from './specs/example-private-use.json' with { type: 'json' };

const ascii = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder('latin1').decode(bytes);
const PAN = '4761739001010119';
const CRYPTOGRAM = '1F2E3D4C5B6A7988';

function message(mti: string, entries: [number, FieldValue][]) {
  return { mti, fields: new Map<number, FieldValue>(entries) };
}

function thrown(action: () => unknown): Iso8583Error {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(Iso8583Error);
    return error as Iso8583Error;
  }
  throw new Error('expected an Iso8583Error');
}

describe('fields: encoding, length prefix and padding', () => {
  it('writes ASCII fields with LL prefixes and pads fixed fields as the spec says', () => {
    const bytes = pack(
      iso8583Ascii1987,
      message('0200', [
        [2, PAN],
        [4, '1250'],
        [41, 'TERM1'],
      ]),
    );
    // Bits 2, 4 and 41: primary bitmap 5000000000800000.
    expect(text(bytes)).toBe(`02005000000000800000${'16'}${PAN}000000001250TERM1   `);
  });

  it('packs BCD numerics: the prefix counts digits, an odd count gets a pad nibble', () => {
    const spec = iso8583Binary1987;
    const bytes = pack(
      spec,
      message('0200', [
        [2, '476173900101011'],
        [22, '071'],
        [35, `${PAN}D22122011`],
      ]),
    );
    expect(toHex(bytes)).toBe(
      // MTI, bitmap (2, 22, 35), PAN: 15 digits left-padded with 0, 22: 0071, 35: 25 digits right-padded with F
      `0200${'4000040020000000'}15${'0476173900101011'}0071${'25'}${PAN}D22122011F`,
    );
    expect(unpack(spec, bytes).fields).toEqual(
      new Map([
        [2, '476173900101011'],
        [22, '071'],
        [35, `${PAN}D22122011`],
      ]),
    );
  });

  it('writes and reads EBCDIC text, EBCDIC prefixes and binary prefixes', () => {
    const spec: MessageSpec = {
      name: 'ebcdic-test',
      description: 'EBCDIC MTI and fields',
      mti: { encoding: 'ebcdic' },
      bitmap: { encoding: 'binary' },
      fields: {
        2: {
          description: 'PAN',
          type: 'numeric',
          encoding: 'ebcdic',
          length: 19,
          prefix: { kind: 'LL', encoding: 'ebcdic' },
        },
        43: {
          description: 'Name',
          type: 'alphanumeric',
          encoding: 'ebcdic',
          length: 40,
          prefix: { kind: 'LLL', encoding: 'binary' },
        },
      },
    };
    const bytes = pack(
      spec,
      message('0100', [
        [2, '1234'],
        [43, 'Ab z[]~'],
      ]),
    );
    expect(toHex(bytes)).toBe(`F0F1F0F0${'4000000000200000'}F0F4F1F2F3F4${'0007'}C18240A9BABBA1`);
    expect(unpack(spec, bytes).fields).toEqual(
      new Map([
        [2, '1234'],
        [43, 'Ab z[]~'],
      ]),
    );
  });

  it('refuses values that do not fit, naming the field but never the value', () => {
    const tooLong = thrown(() => pack(iso8583Ascii1987, message('0200', [[2, `${PAN}9999`]])));
    expect(tooLong).toMatchObject({ code: 'ERR_ISO8583_PACK', path: ['2'] });
    expect(tooLong.message).toBe('cannot pack field 2: has 20 characters, the spec allows at most 19');
    const notDigits = thrown(() => pack(iso8583Ascii1987, message('0200', [[2, '47617390010A0119']])));
    expect(notDigits.message).toContain('character 12 is not allowed in a numeric field');
    expect(notDigits.message).not.toContain('4761');
    expect(thrown(() => pack(iso8583Ascii1987, message('0200', [[52, 'FFFF']]))).message).toContain(
      'must be a Uint8Array',
    );
    expect(
      thrown(() => pack(iso8583Ascii1987, message('0200', [[52, new Uint8Array(7)]]))).message,
    ).toContain('exactly 8');
    expect(thrown(() => pack(iso8583Ascii1987, message('0200', [[65, '1']]))).code).toBe('ERR_ISO8583_FIELD');
    expect(thrown(() => pack(iso8583Ascii1987, message('200', []))).code).toBe('ERR_ISO8583_MTI');
  });
});

describe('bitmaps', () => {
  it('adds the secondary bitmap for fields 65-128 and the tertiary for 129-192', () => {
    const spec: MessageSpec = {
      ...iso8583Binary1987,
      name: 'with-tertiary',
      fields: {
        ...iso8583Binary1987.fields,
        130: {
          description: 'A third-bitmap field',
          type: 'alphanumeric',
          encoding: 'ascii',
          length: 1,
          prefix: { kind: 'fixed' },
        },
      },
    };
    const secondary = pack(spec, message('0800', [[70, '301']]));
    expect(toHex(secondary.subarray(2, 18))).toBe('80000000000000000400000000000000');
    const tertiary = pack(spec, message('0800', [[130, 'X']]));
    expect(toHex(tertiary.subarray(2, 26))).toBe('800000000000000080000000000000004000000000000000');
    expect(unpack(spec, tertiary).fields).toEqual(new Map([[130, 'X']]));
  });

  it('accepts lower-case hex bitmaps and refuses bitmaps that are not hex', () => {
    const lower = unpack(iso8583Ascii1987, ascii('02000a00000000000000000000001250031410153'.concat('0')));
    expect(lower.fields).toEqual(
      new Map([
        [5, '000000001250'],
        [7, '0314101530'],
      ]),
    );
    const error = thrown(() => unpack(iso8583Ascii1987, ascii('02000G00000000000000')));
    expect(error).toMatchObject({ code: 'ERR_ISO8583_UNPACK', path: ['bitmap'], offset: 5 });
  });
});

describe('unpack errors carry the path and the offset, never the value', () => {
  const good = pack(
    iso8583Ascii1987,
    message('0200', [
      [2, PAN],
      [3, '000000'],
      [
        55,
        [
          { tag: '9F26', value: fromHex(CRYPTOGRAM) },
          { tag: '9F27', value: fromHex('80') },
        ],
      ],
    ]),
  );
  // 0200 + 16-hex bitmap + '16' + PAN + '000000' + '013' + TLV
  const tlvStart = 4 + 16 + 2 + 16 + 6 + 3;

  it('a truncated data object in field 55 is reported as ["55", "9F26"] at its absolute offset', () => {
    const bad = good.slice();
    bad[tlvStart + 2] = 0x20; // 9F26 now claims 32 bytes
    const error = thrown(() => unpack(iso8583Ascii1987, bad));
    expect(error.code).toBe('ERR_ISO8583_UNPACK');
    expect(error.path).toEqual(['55', '9F26']);
    expect(error.offset).toBe(tlvStart + 3);
    expect(error.message).toBe(
      `cannot unpack field 55 > 9F26 at offset ${tlvStart + 3}: the BER-TLV data is malformed (ERR_TLV_TRUNCATED)`,
    );
    expect((error.cause as { code: string }).code).toBe('ERR_TLV_TRUNCATED');
    expect(error.message).not.toContain(CRYPTOGRAM);
    expect(error.message).not.toContain(PAN);
  });

  it('a bad digit, a bad prefix, a long prefix, a short message and trailing bytes', () => {
    const badDigit = good.slice();
    badDigit[4 + 16 + 2 + 5] = 0x41; // 'A' inside the PAN
    expect(thrown(() => unpack(iso8583Ascii1987, badDigit))).toMatchObject({ path: ['2'], offset: 27 });
    const badPrefix = good.slice();
    badPrefix[20] = 0x41;
    expect(thrown(() => unpack(iso8583Ascii1987, badPrefix)).message).toBe(
      'cannot unpack field 2 at offset 20: the length prefix is not 2 digits',
    );
    const longPrefix = good.slice();
    longPrefix[20] = 0x32; // '26' > 19
    expect(thrown(() => unpack(iso8583Ascii1987, longPrefix)).message).toContain(
      'states 26, more than the maximum 19',
    );
    const short = thrown(() => unpack(iso8583Ascii1987, good.subarray(0, 30)));
    expect(short).toMatchObject({ code: 'ERR_ISO8583_UNPACK', path: ['2'], offset: 22 });
    expect(short.message).not.toContain('47617390');
    const trailing = thrown(() => unpack(iso8583Ascii1987, Uint8Array.of(...good, 0x30)));
    expect(trailing).toMatchObject({ path: [], offset: good.length });
    expect(thrown(() => unpack(iso8583Ascii1987, ascii('02x0'))).path).toEqual(['mti']);
  });

  it('refuses messages above maxMessageSize and fields the spec does not have', () => {
    const small = parseSpecJson({ ...example, maxMessageSize: 30 });
    expect(thrown(() => unpack(small, new Uint8Array(31))).code).toBe('ERR_ISO8583_SIZE');
    expect(thrown(() => pack(small, message('0200', [[2, PAN]]))).code).toBe('ERR_ISO8583_SIZE');
    const unknown = thrown(() => unpack(parseSpecJson(example), ascii('02002000000000000000')));
    expect(unknown).toMatchObject({ code: 'ERR_ISO8583_UNPACK', path: ['3'] });
  });

  it('refuses a pad nibble that is not the declared fill', () => {
    const bytes = pack(iso8583Binary1987, message('0200', [[22, '071']]));
    bytes[bytes.length - 2] = 0x10;
    expect(thrown(() => unpack(iso8583Binary1987, bytes))).toMatchObject({
      path: ['22'],
      offset: bytes.length - 2,
    });
  });
});

describe('composite fields', () => {
  const spec = parseSpecJson(example);
  const privateUse = new Map<string, FieldValue>([
    ['1', '07'],
    ['2', '40010030273'],
    ['3', 'Amulet Wallet'],
    ['4', fromHex('0102030405060708')],
  ]);

  it('packs positional subfields, each with its own encoding and prefix', () => {
    const bytes = pack(spec, message('0100', [[62, privateUse]]));
    // 62.1 two ASCII digits, 62.2 eleven BCD digits (6 bytes), 62.3 a 1-byte binary LL, 62.4 8 bytes.
    const content = `3037${'040010030273'}0D${toHex(ascii('Amulet Wallet'))}0102030405060708`;
    expect(toHex(bytes)).toBe(
      toHex(ascii(`01000000000000000004${String(content.length / 2).padStart(3, '0')}`)) + content,
    );
    expect(getSubfields(unpack(spec, bytes), 62)).toEqual(privateUse);
  });

  it('reports a bad subfield by its path and refuses a missing one', () => {
    const bytes = pack(spec, message('0100', [[62, privateUse]]));
    bytes[20 + 3] = 0x41; // 62.1 is numeric
    expect(thrown(() => unpack(spec, bytes))).toMatchObject({ path: ['62', '1'], offset: 23 });
    const missing = new Map(privateUse);
    missing.delete('3');
    expect(thrown(() => pack(spec, message('0100', [[62, missing]]))).path).toEqual(['62', '3']);
  });

  it('gives field 55 as data objects and reads them with the accessors', () => {
    const icc = [
      { tag: '9F26', value: fromHex(CRYPTOGRAM) },
      { tag: '70', children: [{ tag: '5A', value: fromHex('4761739001010119') }] },
    ];
    const unpacked = unpack(
      spec,
      pack(
        spec,
        message('0100', [
          [2, PAN],
          [55, icc],
          [62, privateUse],
        ]),
      ),
    );
    expect(getTlv(unpacked)).toEqual(icc);
    expect(toHex(getEmvValue(unpacked, '9f26')!)).toBe(CRYPTOGRAM);
    expect(getEmvValue(unpacked, '9F02')).toBeUndefined();
    expect(getText(unpacked, 2)).toBe(PAN);
    expect(getText(unpacked, 4)).toBeUndefined();
    expect(thrown(() => getBytes(unpacked, 2)).code).toBe('ERR_ISO8583_FIELD');
  });
});

describe('createMessage', () => {
  it('builds a message whose fields can be filled in afterwards', () => {
    const built = createMessage(iso8583Ascii1987, '0800');
    built.fields.set(70, '301');
    expect(text(pack(iso8583Ascii1987, built))).toBe('080080000000000000000400000000000000301');
  });
});
