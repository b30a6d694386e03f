import { fromHex } from '@amulet/bytes';
import { decodeTlv, parseTlvJson, TlvError } from '@amulet/tlv';
import { type CompiledField, compileSpec } from './compile-spec.ts';
import { createMessage } from './create-message.ts';
import { describePath, Iso8583Error } from './iso8583-error.ts';
import type { FieldValue, Iso8583Message } from './iso8583-message.ts';
import type { MessageSpec } from './message-spec.ts';

type Json = Record<string, unknown>;

/**
 * Reads a message in JSON form (docs/iso8583.md, messages as JSON). Two shapes are accepted:
 * - written by hand: `{ "mti": "0200", "fields": { "2": "4761...", "55": "9F2608..." } }`, where
 *   binary fields are hex, BER-TLV fields hex or a TLV JSON array, positional fields an object
 *   of subfields;
 * - what `describeMessage(spec, message, { reveal: true })` gives: `fields` as an array of
 *   `{ field, value | tlv | subfields }` (descriptions and `mtiName` are ignored).
 * A masked value is refused. Values are checked by `pack`, not here.
 */
export function messageFromJson(spec: MessageSpec, json: unknown): Iso8583Message {
  const compiled = compileSpec(spec);
  const root = record(json, [], 'a message must be a JSON object');
  for (const key of Object.keys(root)) {
    if (!['mti', 'mtiName', 'fields', 'spec'].includes(key)) {
      throw jsonError([], `has an unknown property "${key}" (expected mti, fields)`);
    }
  }
  if (typeof root.mti !== 'string') throw jsonError(['mti'], 'must be a string of four digits');
  const entries = fieldEntries(root.fields, []);
  const fields = new Map<number, FieldValue>();
  for (const [key, value] of entries) {
    const number = Number(key);
    const field = /^[1-9][0-9]{0,2}$/.test(key) ? compiled.fields[number] : undefined;
    if (field === undefined) {
      throw new Iso8583Error('ERR_ISO8583_FIELD', `${describePath([key])} is not in the spec`, {
        path: [key],
      });
    }
    if (fields.has(number)) throw jsonError([key], 'appears twice');
    fields.set(number, fieldValue(field, value));
  }
  return createMessage(spec, root.mti, fields);
}

/** The (number, value) pairs of either shape; described entries keep their whole object. */
function fieldEntries(json: unknown, path: readonly string[]): [string, unknown][] {
  if (Array.isArray(json)) {
    return json.map((item: unknown, index) => {
      const entry = record(item, path, `entry ${index} of the fields must be an object`);
      if (typeof entry.field !== 'string')
        throw jsonError(path, `entry ${index} of the fields needs a "field" number`);
      return [entry.field, entry];
    });
  }
  return Object.entries(record(json, path, 'fields must be an object or an array'));
}

function fieldValue(field: CompiledField, json: unknown): FieldValue {
  const path = field.path;
  let value = json;
  if (typeof json === 'object' && json !== null && !Array.isArray(json) && 'field' in json) {
    const described = json as Json;
    if (described.masked === true)
      throw jsonError(path, 'holds a masked value; unpack with reveal to get it');
    value = described.value ?? described.tlv ?? (described.subfields === undefined ? undefined : described);
  }
  switch (field.kind) {
    case 'text':
    case 'bcd':
      if (typeof value !== 'string') throw jsonError(path, 'must be a string');
      return value;
    case 'binary':
      return hexValue(value, path);
    case 'tlv':
      return typeof value === 'string' ? tlvFromHex(value, path) : tlvFromJson(value, path);
    case 'positional':
      return subfieldsValue(field, value);
  }
}

/** Hex of BER-TLV data objects, decoded with the same rules `unpack` applies to the field. */
function tlvFromHex(text: string, path: readonly string[]): FieldValue {
  const bytes = hexValue(text, path);
  try {
    return decodeTlv(bytes, { allowTrailingPadding: false });
  } catch (error) {
    if (!(error instanceof TlvError)) throw error;
    throw jsonError([...path, ...(error.path ?? [])], `is not well-formed BER-TLV (${error.code})`, error);
  }
}

/** The TLV JSON array that `describeMessage` gives with `reveal`. */
function tlvFromJson(json: unknown, path: readonly string[]): FieldValue {
  try {
    return parseTlvJson(json);
  } catch (error) {
    if (!(error instanceof TlvError)) throw error;
    throw jsonError([...path, ...(error.path ?? [])], 'holds a malformed or masked data object', error);
  }
}

function subfieldsValue(field: CompiledField, json: unknown): FieldValue {
  const entries =
    typeof json === 'object' && json !== null && 'subfields' in json
      ? fieldEntries((json as Json).subfields, field.path)
      : fieldEntries(json, field.path);
  const map = new Map<string, FieldValue>();
  for (const [key, value] of entries) {
    const subfield = field.subfields.find((candidate) => candidate.path[candidate.path.length - 1] === key);
    if (subfield === undefined) throw jsonError([...field.path, key], 'is not a subfield of the spec');
    map.set(key, fieldValue(subfield, value));
  }
  return map;
}

function hexValue(json: unknown, path: readonly string[]): Uint8Array {
  if (typeof json !== 'string' || !/^(?:[0-9A-Fa-f]{2})*$/.test(json)) {
    throw jsonError(path, 'must be hex with an even number of digits');
  }
  return fromHex(json);
}

function record(json: unknown, path: readonly string[], problem: string): Json {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw jsonError(path, problem);
  return json as Json;
}

function jsonError(path: readonly string[], problem: string, cause?: unknown): Iso8583Error {
  const where = path.length === 0 ? 'the message JSON' : `the message JSON ${describePath(path)}`;
  return new Iso8583Error('ERR_ISO8583_JSON', `${where} ${problem}`, { path, cause });
}
