import { describe, expect, it } from 'vitest';
import {
  Iso8583Error,
  iso8583Ascii1987,
  iso8583Binary1987,
  type MessageSpec,
  pack,
  parseSpecJson,
  unpack,
} from '../src/index.ts';
import example from './specs/example-private-use.json' with { type: 'json' };

function thrown(action: () => unknown): Iso8583Error {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(Iso8583Error);
    return error as Iso8583Error;
  }
  throw new Error('expected an Iso8583Error');
}

describe('JSON specs', () => {
  it('reads a spec file and the copy it returns survives a JSON round trip unchanged', () => {
    const spec = parseSpecJson(example);
    expect(parseSpecJson(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
    expect(spec.fields['62']?.composite?.kind).toBe('positional');
    expect(spec.maxMessageSize).toBe(2048);
  });

  it('the shipped specs are valid JSON specs, identical after a JSON round trip', () => {
    for (const shipped of [iso8583Ascii1987, iso8583Binary1987]) {
      const copy = parseSpecJson(JSON.parse(JSON.stringify(shipped)));
      expect(copy).toEqual(shipped);
      expect(Object.keys(copy.fields)).toHaveLength(126); // 2-128 without 65
    }
  });

  it('a spec loaded from JSON packs like the same spec written in TypeScript', () => {
    const fromJson = parseSpecJson(JSON.parse(JSON.stringify(iso8583Ascii1987)));
    const message = {
      mti: '0800',
      fields: new Map<number, string>([
        [11, '000001'],
        [70, '301'],
      ]),
    };
    expect(pack(fromJson, message)).toEqual(pack(iso8583Ascii1987, message));
    expect(unpack(fromJson, pack(iso8583Ascii1987, message)).fields).toEqual(message.fields);
  });

  const field = {
    description: 'Test field',
    type: 'numeric',
    encoding: 'ascii',
    length: 6,
    prefix: { kind: 'fixed' },
  };
  const withField = (changes: Record<string, unknown>, number = '3') => ({
    name: 'test',
    description: 'A test spec',
    mti: { encoding: 'ascii' },
    bitmap: { encoding: 'hex' },
    fields: { [number]: { ...field, ...changes } },
  });

  const invalid: readonly [string, unknown, readonly string[], string][] = [
    ['not an object', [], [], 'the spec must be an object'],
    ['unknown top-level property', { ...withField({}), version: 1 }, ['version'], 'is not a known property'],
    ['bad name', { ...withField({}), name: 'a b' }, ['name'], 'letters, digits'],
    ['missing mti', { ...withField({}), mti: undefined }, ['mti'], 'must be an object'],
    [
      'bad mti encoding',
      { ...withField({}), mti: { encoding: 'binary' } },
      ['mti', 'encoding'],
      'ascii, ebcdic, bcd',
    ],
    [
      'bad bitmap encoding',
      { ...withField({}), bitmap: { encoding: 'ascii' } },
      ['bitmap', 'encoding'],
      'hex, binary',
    ],
    ['field 1 declared', withField({}, '1'), ['fields', '1'], 'is not a field number'],
    ['field 65 declared', withField({}, '65'), ['fields', '65'], 'is not a field number'],
    ['field 193', withField({}, '193'), ['fields', '193'], 'is not a field number'],
    ['field with leading zero', withField({}, '03'), ['fields', '03'], 'without leading zeros'],
    [
      'unknown field property',
      withField({ format: 'n6' }),
      ['fields', '3', 'format'],
      'is not a known property',
    ],
    ['empty description', withField({ description: '' }), ['fields', '3', 'description'], 'non-empty string'],
    ['unknown type', withField({ type: 'decimal' }), ['fields', '3', 'type'], 'must be one of numeric'],
    [
      'numeric as binary',
      withField({ encoding: 'binary' }),
      ['fields', '3', 'encoding'],
      'ascii, ebcdic, bcd',
    ],
    [
      'text as bcd',
      withField({ type: 'alphanumeric', encoding: 'bcd' }),
      ['fields', '3', 'encoding'],
      'ascii, ebcdic',
    ],
    ['length zero', withField({ length: 0 }), ['fields', '3', 'length'], 'integer from 1'],
    ['length not integer', withField({ length: 2.5 }), ['fields', '3', 'length'], 'integer'],
    [
      'LL longer than 99',
      withField({ length: 100, prefix: { kind: 'LL' } }),
      ['fields', '3', 'length'],
      'from 1 to 99',
    ],
    [
      'unknown prefix kind',
      withField({ prefix: { kind: 'LLLLL' } }),
      ['fields', '3', 'prefix', 'kind'],
      'fixed, LL',
    ],
    [
      'prefix encoding on fixed',
      withField({ prefix: { kind: 'fixed', encoding: 'bcd' } }),
      ['fields', '3', 'prefix', 'encoding'],
      'no meaning',
    ],
    [
      'bad prefix encoding',
      withField({ prefix: { kind: 'LL', encoding: 'utf8' } }),
      ['fields', '3', 'prefix', 'encoding'],
      'must be one of',
    ],
    [
      'padding side',
      withField({ padding: { side: 'middle', fill: '0' } }),
      ['fields', '3', 'padding', 'side'],
      'left, right',
    ],
    [
      'padding fill not a digit',
      withField({ padding: { side: 'left', fill: ' ' } }),
      ['fields', '3', 'padding', 'fill'],
      'numeric field may hold',
    ],
    [
      'padding fill two characters',
      withField({ padding: { side: 'left', fill: '00' } }),
      ['fields', '3', 'padding', 'fill'],
      'one character',
    ],
    [
      'bcd fill not a nibble',
      withField({ encoding: 'bcd', padding: { side: 'left', fill: 'G' } }),
      ['fields', '3', 'padding', 'fill'],
      'hex digit',
    ],
    [
      'padding on a variable text field',
      withField({ prefix: { kind: 'LL' }, padding: { side: 'left', fill: '0' } }),
      ['fields', '3', 'padding'],
      'only allowed on fixed',
    ],
    [
      'padding on binary',
      withField({ type: 'binary', encoding: 'binary', padding: { side: 'left', fill: '0' } }),
      ['fields', '3', 'padding'],
      'not allowed on a binary',
    ],
    [
      'unknown sensitivity',
      withField({ sensitivity: 'private' }),
      ['fields', '3', 'sensitivity'],
      'public, pan',
    ],
    [
      'pan on binary',
      withField({ type: 'binary', encoding: 'binary', sensitivity: 'pan' }),
      ['fields', '3', 'sensitivity'],
      "'pan' applies only",
    ],
    [
      'composite without composite',
      withField({ type: 'composite', encoding: 'binary' }),
      ['fields', '3', 'composite'],
      'is required',
    ],
    [
      'composite on numeric',
      withField({ composite: { kind: 'tlv' } }),
      ['fields', '3', 'composite'],
      'only allowed on a composite',
    ],
    [
      'unknown composite kind',
      withField({ type: 'composite', encoding: 'binary', composite: { kind: 'xml' } }),
      ['fields', '3', 'composite', 'kind'],
      'tlv, positional',
    ],
    [
      'no subfields',
      withField({ type: 'composite', encoding: 'binary', composite: { kind: 'positional', subfields: {} } }),
      ['fields', '3', 'composite', 'subfields'],
      'at least one',
    ],
    [
      'bad subfield',
      withField({
        type: 'composite',
        encoding: 'binary',
        composite: { kind: 'positional', subfields: { 1: { ...field, length: -1 } } },
      }),
      ['fields', '3', 'composite', 'subfields', '1', 'length'],
      'integer',
    ],
    ['maxMessageSize zero', { ...withField({}), maxMessageSize: 0 }, ['maxMessageSize'], 'integer from 1'],
  ];

  for (const [name, json, path, fragment] of invalid) {
    it(`refuses a spec with ${name}, naming ${path.join('.') || 'the spec'}`, () => {
      const error = thrown(() => parseSpecJson(json));
      expect(error.code).toBe('ERR_ISO8583_SPEC');
      expect(error.path).toEqual(path);
      expect(error.message).toContain(fragment);
      if (path.length > 0) expect(error.message).toContain(`spec property ${path.join('.')}`);
    });
  }

  it('checks a TypeScript spec on first use', () => {
    const broken = withField({ length: 0 }) as unknown as MessageSpec;
    expect(thrown(() => pack(broken, { mti: '0200', fields: new Map() })).code).toBe('ERR_ISO8583_SPEC');
  });
});
