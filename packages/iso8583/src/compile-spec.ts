import { allowedCharacters, allowedNibbles, asciiToEbcdic } from './character-set.ts';
import { prefixSize } from './length-prefix.ts';
import type { FieldSpec, MessageSpec, PrefixEncoding } from './message-spec.ts';
import { DEFAULT_MAX_MESSAGE_SIZE } from './message-spec.ts';
import { PREFIX_DIGITS, parseSpecJson } from './parse-spec-json.ts';

/** How the codec treats a field's content. */
export type FieldKind = 'text' | 'bcd' | 'binary' | 'tlv' | 'positional';

/** A field spec turned into the tables the codec reads on the hot path. */
export interface CompiledField {
  readonly spec: FieldSpec;
  /** Field then subfield numbers, e.g. ['48', '2']. */
  readonly path: readonly string[];
  readonly kind: FieldKind;
  readonly length: number;
  readonly fixed: boolean;
  /** 0 for fixed fields, else 2, 3 or 4. */
  readonly prefixDigits: number;
  readonly prefixEncoding: PrefixEncoding;
  /** Bytes the length prefix takes; 0 for fixed fields. */
  readonly prefixSize: number;
  /** text: character code -> byte, 0 when the character is not allowed. */
  readonly encodeTable: Uint8Array;
  /** text: byte -> character code, 0 when the byte is not allowed. */
  readonly decodeTable: Uint8Array;
  /** text: each allowed byte is its own character code (ASCII), so no mapping is needed. */
  readonly bytesAreCodes: boolean;
  /** bcd: allowed nibble values. */
  readonly nibbles: Uint8Array;
  /** bcd: character code (below 128) -> its nibble when the field allows it, else -1. */
  readonly digitNibbles: Int8Array;
  /** bcd: byte -> 1 when both its nibbles are allowed digits, so a byte is checked at once. */
  readonly digitPairs: Uint8Array;
  readonly padLeft: boolean;
  /** The fill as a character (fixed text fields) or nibble value (bcd); -1 without padding. */
  readonly fillCode: number;
  readonly fillNibble: number;
  readonly subfields: readonly CompiledField[];
}

export interface CompiledSpec {
  readonly spec: MessageSpec;
  readonly maxMessageSize: number;
  /** Index = field number; undefined where the spec has no field. */
  readonly fields: readonly (CompiledField | undefined)[];
}

const cache = new WeakMap<MessageSpec, CompiledSpec>();
/** The spec of the last call, which is nearly always the spec of the next one. */
let lastSpec: MessageSpec | undefined;
let lastCompiled: CompiledSpec | undefined;

/** The compiled form of `spec`, checked with `parseSpecJson` and built once per spec object. */
export function compileSpec(spec: MessageSpec): CompiledSpec {
  if (spec === lastSpec) return lastCompiled!;
  let compiled = cache.get(spec);
  if (compiled === undefined) {
    const checked = parseSpecJson(spec);
    const fields: (CompiledField | undefined)[] = new Array(193).fill(undefined);
    for (const [key, field] of Object.entries(checked.fields))
      fields[Number(key)] = compileField(field, [key]);
    compiled = { spec: checked, maxMessageSize: checked.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE, fields };
    cache.set(spec, compiled);
  }
  lastSpec = spec;
  lastCompiled = compiled;
  return compiled;
}

function compileField(spec: FieldSpec, path: readonly string[]): CompiledField {
  const kind = fieldKind(spec);
  const allowed = allowedCharacters(spec.type);
  const encodeTable = new Uint8Array(256);
  const decodeTable = new Uint8Array(256);
  if (kind === 'text') {
    for (let code = 0; code < 256; code++) {
      if (allowed[code] !== 1) continue;
      const byte = spec.encoding === 'ebcdic' ? asciiToEbcdic[code]! : code;
      encodeTable[code] = byte;
      decodeTable[byte] = code;
    }
  }
  const nibbles = allowedNibbles(spec.type);
  const digitNibbles = new Int8Array(128).fill(-1);
  const digitPairs = new Uint8Array(256);
  for (let nibble = 0; nibble < 16; nibble++) {
    if (nibbles[nibble] !== 1) continue;
    // The digits '0'-'9' are nibbles 0-9; 'D' is nibble D, the track separator.
    digitNibbles[nibble < 10 ? 0x30 + nibble : 0x37 + nibble] = nibble;
    for (let low = 0; low < 16; low++) if (nibbles[low] === 1) digitPairs[(nibble << 4) | low] = 1;
  }
  const fill = spec.padding?.fill;
  const subfields =
    spec.composite?.kind === 'positional'
      ? Object.entries(spec.composite.subfields).map(([key, sub]) => compileField(sub, [...path, key]))
      : [];
  return {
    spec,
    path,
    kind,
    length: spec.length,
    fixed: spec.prefix.kind === 'fixed',
    prefixDigits: PREFIX_DIGITS[spec.prefix.kind],
    prefixEncoding: spec.prefix.encoding ?? 'ascii',
    prefixSize:
      spec.prefix.kind === 'fixed'
        ? 0
        : prefixSize(PREFIX_DIGITS[spec.prefix.kind], spec.prefix.encoding ?? 'ascii'),
    encodeTable,
    decodeTable,
    bytesAreCodes: kind === 'text' && spec.encoding !== 'ebcdic',
    nibbles,
    digitNibbles,
    digitPairs,
    // BCD digits are right-justified unless the spec says otherwise (ISO 8583:1987 4.3).
    padLeft: spec.padding === undefined ? spec.type !== 'track' : spec.padding.side === 'left',
    fillCode: fill === undefined ? -1 : fill.charCodeAt(0),
    fillNibble: fill === undefined ? (spec.type === 'track' ? 0xf : 0) : Number.parseInt(fill, 16),
    subfields,
  };
}

function fieldKind(spec: FieldSpec): FieldKind {
  if (spec.type === 'composite') return spec.composite?.kind === 'tlv' ? 'tlv' : 'positional';
  if (spec.type === 'binary') return 'binary';
  return spec.encoding === 'bcd' ? 'bcd' : 'text';
}
