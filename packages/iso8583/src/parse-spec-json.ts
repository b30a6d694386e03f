import { allowedCharacters } from './character-set.ts';
import { Iso8583Error } from './iso8583-error.ts';
import type {
  CompositeSpec,
  FieldEncoding,
  FieldSpec,
  FieldType,
  LengthPrefix,
  MessageSpec,
  Padding,
  PrefixKind,
  Sensitivity,
} from './message-spec.ts';

const FIELD_TYPES: readonly FieldType[] = ['numeric', 'alphanumeric', 'track', 'binary', 'composite'];
const PREFIX_KINDS: readonly PrefixKind[] = ['fixed', 'LL', 'LLL', 'LLLL'];
const PREFIX_ENCODINGS = ['ascii', 'ebcdic', 'bcd', 'binary'] as const;
const SENSITIVITIES: readonly Sensitivity[] = ['public', 'pan', 'sensitive', 'secret'];
/** Which encodings each type may use. */
const ENCODINGS_BY_TYPE: Readonly<Record<FieldType, readonly FieldEncoding[]>> = {
  numeric: ['ascii', 'ebcdic', 'bcd'],
  track: ['ascii', 'ebcdic', 'bcd'],
  alphanumeric: ['ascii', 'ebcdic'],
  binary: ['binary'],
  composite: ['binary'],
};
/** The largest length each prefix can state. */
export const PREFIX_DIGITS: Readonly<Record<PrefixKind, number>> = { fixed: 0, LL: 2, LLL: 3, LLLL: 4 };
const MAX_SUBFIELD_DEPTH = 4;
const MAX_MESSAGE_SIZE_LIMIT = 1_048_576;

type Json = Record<string, unknown>;

/**
 * Checks a spec strictly and returns a clean copy of it: every property known, of the right
 * type, in a combination the codec can honour (docs/iso8583.md, the JSON spec format). Used for
 * spec files and, on first use, for specs written in TypeScript. The first problem found throws
 * `ERR_ISO8583_SPEC` naming the property, e.g. `fields.2.prefix.kind`.
 */
export function parseSpecJson(json: unknown): MessageSpec {
  const spec = record(json, []);
  onlyKeys(spec, ['name', 'description', 'mti', 'bitmap', 'maxMessageSize', 'fields'], []);
  const name = text(spec.name, ['name']);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw specError(['name'], 'must be 1 to 64 letters, digits, dots, dashes or underscores');
  }
  const mti = record(spec.mti, ['mti']);
  onlyKeys(mti, ['encoding'], ['mti']);
  const bitmap = record(spec.bitmap, ['bitmap']);
  onlyKeys(bitmap, ['encoding'], ['bitmap']);
  const fieldsJson = record(spec.fields, ['fields']);
  const fields: Record<string, FieldSpec> = {};
  for (const key of Object.keys(fieldsJson).sort((a, b) => Number(a) - Number(b))) {
    const number = canonicalNumber(key, ['fields', key]);
    if (number < 2 || number > 192 || number === 65) {
      throw specError(['fields', key], 'is not a field number: fields are 2-64, 66-128 and 130-192');
    }
    fields[key] = field(fieldsJson[key], ['fields', key], 0);
  }
  const result: MessageSpec = {
    name,
    description: text(spec.description, ['description']),
    mti: { encoding: oneOf(mti.encoding, ['ascii', 'ebcdic', 'bcd'] as const, ['mti', 'encoding']) },
    bitmap: { encoding: oneOf(bitmap.encoding, ['hex', 'binary'] as const, ['bitmap', 'encoding']) },
    fields,
  };
  if (spec.maxMessageSize === undefined) return result;
  return {
    ...result,
    maxMessageSize: integer(spec.maxMessageSize, ['maxMessageSize'], 1, MAX_MESSAGE_SIZE_LIMIT),
  };
}

function field(json: unknown, path: readonly string[], depth: number): FieldSpec {
  const spec = record(json, path);
  onlyKeys(
    spec,
    ['description', 'type', 'encoding', 'length', 'prefix', 'padding', 'sensitivity', 'composite'],
    path,
  );
  const type = oneOf(spec.type, FIELD_TYPES, [...path, 'type']);
  const encoding = oneOf(spec.encoding, ENCODINGS_BY_TYPE[type], [...path, 'encoding']);
  const prefix = lengthPrefix(spec.prefix, [...path, 'prefix']);
  const digits = PREFIX_DIGITS[prefix.kind];
  const maxLength = digits === 0 ? MAX_MESSAGE_SIZE_LIMIT : 10 ** digits - 1;
  const length = integer(spec.length, [...path, 'length'], 1, maxLength);
  let result: FieldSpec = {
    description: text(spec.description, [...path, 'description']),
    type,
    encoding,
    length,
    prefix,
  };
  if (spec.padding !== undefined) {
    result = { ...result, padding: padding(spec.padding, result, [...path, 'padding']) };
  }
  if (spec.sensitivity !== undefined) {
    const sensitivity = oneOf(spec.sensitivity, SENSITIVITIES, [...path, 'sensitivity']);
    if (sensitivity === 'pan' && (type === 'binary' || type === 'composite')) {
      throw specError(
        [...path, 'sensitivity'],
        "'pan' applies only to numeric, alphanumeric and track fields",
      );
    }
    result = { ...result, sensitivity };
  }
  if (type === 'composite') {
    if (spec.composite === undefined)
      throw specError([...path, 'composite'], 'is required for a composite field');
    result = { ...result, composite: composite(spec.composite, [...path, 'composite'], depth) };
  } else if (spec.composite !== undefined) {
    throw specError([...path, 'composite'], 'is only allowed on a composite field');
  }
  return result;
}

function lengthPrefix(json: unknown, path: readonly string[]): LengthPrefix {
  const prefix = record(json, path);
  onlyKeys(prefix, ['kind', 'encoding'], path);
  const kind = oneOf(prefix.kind, PREFIX_KINDS, [...path, 'kind']);
  if (prefix.encoding === undefined) return { kind };
  if (kind === 'fixed') throw specError([...path, 'encoding'], 'has no meaning for a fixed field');
  return { kind, encoding: oneOf(prefix.encoding, PREFIX_ENCODINGS, [...path, 'encoding']) };
}

function padding(json: unknown, spec: FieldSpec, path: readonly string[]): Padding {
  const pad = record(json, path);
  onlyKeys(pad, ['side', 'fill'], path);
  const side = oneOf(pad.side, ['left', 'right'] as const, [...path, 'side']);
  const fill = text(pad.fill, [...path, 'fill']);
  if (spec.type === 'binary' || spec.type === 'composite') {
    throw specError(path, `is not allowed on a ${spec.type} field`);
  }
  if (spec.encoding === 'bcd') {
    if (!/^[0-9A-F]$/.test(fill))
      throw specError([...path, 'fill'], 'must be one upper-case hex digit (a nibble)');
    return { side, fill };
  }
  if (spec.prefix.kind !== 'fixed') {
    throw specError(path, 'is only allowed on fixed fields or BCD fields');
  }
  if (fill.length !== 1 || allowedCharacters(spec.type)[fill.charCodeAt(0)] !== 1) {
    throw specError([...path, 'fill'], `must be one character a ${spec.type} field may hold`);
  }
  return { side, fill };
}

function composite(json: unknown, path: readonly string[], depth: number): CompositeSpec {
  const spec = record(json, path);
  const kind = oneOf(spec.kind, ['tlv', 'positional'] as const, [...path, 'kind']);
  if (kind === 'tlv') {
    onlyKeys(spec, ['kind'], path);
    return { kind };
  }
  onlyKeys(spec, ['kind', 'subfields'], path);
  if (depth + 1 >= MAX_SUBFIELD_DEPTH) {
    throw specError(path, `nests subfields deeper than ${MAX_SUBFIELD_DEPTH} levels`);
  }
  const subfieldsJson = record(spec.subfields, [...path, 'subfields']);
  const keys = Object.keys(subfieldsJson).sort((a, b) => Number(a) - Number(b));
  if (keys.length === 0) throw specError([...path, 'subfields'], 'must declare at least one subfield');
  const subfields: Record<string, FieldSpec> = {};
  for (const key of keys) {
    const number = canonicalNumber(key, [...path, 'subfields', key]);
    if (number < 1 || number > 999)
      throw specError([...path, 'subfields', key], 'must be a number from 1 to 999');
    subfields[key] = field(subfieldsJson[key], [...path, 'subfields', key], depth + 1);
  }
  return { kind, subfields };
}

function record(json: unknown, path: readonly string[]): Json {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw specError(path, 'must be an object');
  return json as Json;
}

function onlyKeys(json: Json, allowed: readonly string[], path: readonly string[]): void {
  for (const key of Object.keys(json)) {
    if (!allowed.includes(key)) {
      throw specError([...path, key], `is not a known property (expected one of ${allowed.join(', ')})`);
    }
  }
}

function text(json: unknown, path: readonly string[]): string {
  if (typeof json !== 'string' || json.length === 0) throw specError(path, 'must be a non-empty string');
  return json;
}

function oneOf<T extends string>(json: unknown, choices: readonly T[], path: readonly string[]): T {
  if (typeof json !== 'string' || !(choices as readonly string[]).includes(json)) {
    throw specError(path, `must be one of ${choices.join(', ')}`);
  }
  return json as T;
}

function integer(json: unknown, path: readonly string[], min: number, max: number): number {
  if (typeof json !== 'number' || !Number.isInteger(json) || json < min || json > max) {
    throw specError(path, `must be an integer from ${min} to ${max}`);
  }
  return json;
}

function canonicalNumber(key: string, path: readonly string[]): number {
  if (!/^[1-9][0-9]{0,2}$/.test(key)) throw specError(path, 'must be a number without leading zeros');
  return Number(key);
}

function specError(path: readonly string[], problem: string): Iso8583Error {
  const where = path.length === 0 ? 'the spec' : `spec property ${path.join('.')}`;
  return new Iso8583Error('ERR_ISO8583_SPEC', `${where} ${problem}`, { path });
}
