import type { TlvNode } from '@amulet/tlv';
import { findTag } from '@amulet/tlv';
import { Iso8583Error } from './iso8583-error.ts';
import type { FieldValue, Iso8583Message } from './iso8583-message.ts';

/** A text field (numeric, alphanumeric, track), or undefined when absent. */
export function getText(message: Iso8583Message, field: number): string | undefined {
  const value = message.fields.get(field);
  if (value === undefined || typeof value === 'string') return value;
  throw wrongKind(field, 'text');
}

/** A binary field, or undefined when absent. */
export function getBytes(message: Iso8583Message, field: number): Uint8Array | undefined {
  const value = message.fields.get(field);
  if (value === undefined || value instanceof Uint8Array) return value;
  throw wrongKind(field, 'binary');
}

/** The data objects of a BER-TLV field (default 55, ICC data), or undefined when absent. */
export function getTlv(message: Iso8583Message, field = 55): readonly TlvNode[] | undefined {
  const value = message.fields.get(field);
  if (value === undefined || Array.isArray(value)) return value as readonly TlvNode[] | undefined;
  throw wrongKind(field, 'BER-TLV');
}

/** The subfields of a positional composite field, or undefined when absent. */
export function getSubfields(
  message: Iso8583Message,
  field: number,
): ReadonlyMap<string, FieldValue> | undefined {
  const value = message.fields.get(field);
  if (value === undefined || value instanceof Map)
    return value as ReadonlyMap<string, FieldValue> | undefined;
  throw wrongKind(field, 'positional composite');
}

/** The value of an EMV data object in field 55 (e.g. '9F26', the cryptogram), or undefined. */
export function getEmvValue(message: Iso8583Message, tag: string): Uint8Array | undefined {
  const nodes = getTlv(message, 55);
  return nodes === undefined ? undefined : findTag(nodes, tag)?.value;
}

function wrongKind(field: number, kind: string): Iso8583Error {
  return new Iso8583Error('ERR_ISO8583_FIELD', `field ${field} does not hold a ${kind} value`, {
    path: [String(field)],
  });
}
