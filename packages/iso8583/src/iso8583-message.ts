import type { TlvNode } from '@amulet/tlv';

/**
 * The value of one field:
 * - numeric, alphanumeric and track fields: a string (the characters as they stand in the
 *   field, padding included for fixed fields; the pad nibble of an odd BCD value removed);
 * - binary fields: bytes (a view into the unpacked input, not a copy);
 * - BER-TLV composite fields: the data objects;
 * - positional composite fields: the subfields by number ('1', '2', ...).
 */
export type FieldValue = string | Uint8Array | readonly TlvNode[] | ReadonlyMap<string, FieldValue>;

/** One ISO 8583 message: its MTI and its fields by number (2-192). */
export interface Iso8583Message {
  readonly mti: string;
  readonly fields: ReadonlyMap<number, FieldValue>;
}
