/**
 * A message spec is data: a table that `pack` and `unpack` read. Each field is composed of three
 * small parts, an encoding, a length prefix and a padding, plus its type, its description and
 * how sensitive it is. No field has a class of its own. docs/iso8583.md documents the JSON form,
 * which has exactly this shape.
 */

/** How the characters or digits of a field become bytes. */
export type FieldEncoding = 'ascii' | 'ebcdic' | 'bcd' | 'binary';

/** How the digits of a length prefix become bytes. */
export type PrefixEncoding = 'ascii' | 'ebcdic' | 'bcd' | 'binary';

/**
 * ISO 8583:1987 section 4.3 attributes, grouped by what the codec checks:
 * - numeric (n): digits 0-9;
 * - alphanumeric (a, an, ans, x+n): printable ASCII characters, space to '~';
 * - track (z, the track 2 and track 3 code set): digits, the separator 'D' and, in text
 *   encodings, '=';
 * - binary (b): bytes, length counted in bytes;
 * - composite: bytes that are themselves subfields (BER-TLV or positional).
 */
export type FieldType = 'numeric' | 'alphanumeric' | 'track' | 'binary' | 'composite';

/**
 * fixed: the field always has `length` units. LL, LLL, LLLL: a prefix of 2, 3 or 4 decimal
 * digits gives the length that follows, at most `length` units.
 */
export type PrefixKind = 'fixed' | 'LL' | 'LLL' | 'LLLL';

export interface LengthPrefix {
  readonly kind: PrefixKind;
  /** How the prefix digits are written. Ignored for fixed fields; default 'ascii'. */
  readonly encoding?: PrefixEncoding;
}

/**
 * For a fixed text field: `fill` characters added on `side` to a shorter value when packing.
 * For a BCD field with an odd number of digits: the nibble (one hex digit, `fill`) that
 * completes the last byte, on `side`.
 */
export interface Padding {
  readonly side: 'left' | 'right';
  readonly fill: string;
}

/**
 * public: shown as is. pan: shown as its first six and last four digits. sensitive and secret:
 * hidden entirely (secret marks PIN blocks and cryptograms). In a BER-TLV field each data object
 * is masked as the EMV dictionary marks it, and when the field is not public, objects the
 * dictionary does not know are hidden too.
 */
export type Sensitivity = 'public' | 'pan' | 'sensitive' | 'secret';

/** The content of a composite field. */
export type CompositeSpec =
  /** BER-TLV data objects (EMV Book 3 Annex B), as in field 55. */
  | { readonly kind: 'tlv' }
  /** Subfields one after the other, each with its own encoding, prefix and padding. */
  | { readonly kind: 'positional'; readonly subfields: Readonly<Record<string, FieldSpec>> };

export interface FieldSpec {
  /** What the field holds, in our own words. */
  readonly description: string;
  readonly type: FieldType;
  /** Composite fields use 'binary': their bytes are made by their subfields. */
  readonly encoding: FieldEncoding;
  /** Exact (fixed) or maximum (LL, LLL, LLLL) length: characters or digits, or bytes for binary and composite. */
  readonly length: number;
  readonly prefix: LengthPrefix;
  readonly padding?: Padding;
  /** Default 'public'. */
  readonly sensitivity?: Sensitivity;
  /** Required when `type` is 'composite', refused otherwise. */
  readonly composite?: CompositeSpec;
}

/** The MTI is four digits (ISO 8583:1987 section 4.1). */
export interface MtiSpec {
  readonly encoding: 'ascii' | 'ebcdic' | 'bcd';
}

/**
 * Bitmaps of 64 bits each (ISO 8583:1987 section 4.2): 'hex' writes each as 16 ASCII hex digits,
 * 'binary' as 8 bytes.
 */
export interface BitmapSpec {
  readonly encoding: 'hex' | 'binary';
}

export interface MessageSpec {
  /** Short identifier, e.g. 'iso8583-1987-ascii'. */
  readonly name: string;
  readonly description: string;
  readonly mti: MtiSpec;
  readonly bitmap: BitmapSpec;
  /** Largest message `unpack` accepts and `pack` produces, in bytes. Default 65,535. */
  readonly maxMessageSize?: number;
  /**
   * Fields by number: 2-64, 66-128, 130-192. Bits 1 and 65 are not fields: they announce the
   * secondary and the tertiary bitmap.
   */
  readonly fields: Readonly<Record<string, FieldSpec>>;
}

export const DEFAULT_MAX_MESSAGE_SIZE = 65_535;
