import { type Iso8583DataElement, iso8583DataElements1987 } from './iso8583-1987-fields.ts';
import type { FieldSpec, MessageSpec, PrefixEncoding } from './message-spec.ts';

/** How a dialect writes each kind of data element. */
interface Dialect {
  readonly digits: 'ascii' | 'bcd';
  readonly prefix: PrefixEncoding;
}

/** Builds the field specs of a dialect from the 1987 table; each result is plain data. */
function fieldsOf(dialect: Dialect): Record<string, FieldSpec> {
  const fields: Record<string, FieldSpec> = {};
  for (const [number, element] of Object.entries(iso8583DataElements1987)) {
    fields[number] = number === '55' ? iccData(element, dialect) : fieldOf(element, dialect);
  }
  return fields;
}

function fieldOf(element: Iso8583DataElement, dialect: Dialect): FieldSpec {
  const match = /^(n|an|ans|ns|x\+n|z|b)(\.{0,3})([0-9]+)$/.exec(element.format);
  if (match === null) throw new Error(`unknown format ${element.format}`); // a bug in the table
  const [, attribute, dots, size] = match as unknown as [string, string, string, string];
  const variable = dots.length > 0;
  const prefix = variable
    ? { kind: dots.length === 2 ? 'LL' : 'LLL', encoding: dialect.prefix }
    : { kind: 'fixed' };
  const base = {
    description: element.description,
    prefix: prefix as FieldSpec['prefix'],
    ...(element.sensitivity === undefined ? {} : { sensitivity: element.sensitivity }),
  };
  const length = Number(size);
  if (attribute === 'b')
    return { ...base, type: 'binary', encoding: 'binary', length: variable ? length : length / 8 };
  if (attribute === 'n' || attribute === 'z') {
    const type = attribute === 'n' ? 'numeric' : 'track';
    // ISO 8583:1987 4.3: numeric values are right-justified with leading zeros; BCD track data
    // is left-justified with a trailing F nibble.
    const fill =
      dialect.digits === 'bcd' && type === 'track'
        ? { side: 'right', fill: 'F' }
        : { side: 'left', fill: '0' };
    const padding =
      dialect.digits === 'bcd' || (!variable && type === 'numeric')
        ? { padding: fill as FieldSpec['padding'] & object }
        : {};
    return { ...base, type, encoding: dialect.digits, length, ...padding };
  }
  // Text is left-justified and filled with spaces; x+n carries one more character, the sign.
  return {
    ...base,
    type: 'alphanumeric',
    encoding: 'ascii',
    length: attribute === 'x+n' ? length + 1 : length,
    ...(variable ? {} : { padding: { side: 'right', fill: ' ' } }),
  };
}

/** Field 55 (ICC data): BER-TLV data objects, decoded with the EMV dictionary's names. */
function iccData(element: Iso8583DataElement, dialect: Dialect): FieldSpec {
  return {
    description: element.description,
    type: 'composite',
    encoding: 'binary',
    length: 255,
    prefix: { kind: 'LLL', encoding: dialect.prefix },
    sensitivity: 'secret',
    composite: { kind: 'tlv' },
  };
}

/**
 * ISO 8583:1987 in ASCII: MTI, bitmaps as hexadecimal text, numbers and lengths as ASCII
 * digits; binary fields (PIN block, MAC, field 55) as raw bytes.
 */
export const iso8583Ascii1987: MessageSpec = {
  name: 'iso8583-1987-ascii',
  description:
    'ISO 8583:1987, ASCII MTI, hexadecimal bitmaps, ASCII numerics and length prefixes, field 55 as BER-TLV',
  mti: { encoding: 'ascii' },
  bitmap: { encoding: 'hex' },
  fields: fieldsOf({ digits: 'ascii', prefix: 'ascii' }),
};

/**
 * ISO 8583:1987 in binary form: BCD MTI, binary bitmaps, numerics and track data packed as BCD,
 * length prefixes as BCD; text in ASCII.
 */
export const iso8583Binary1987: MessageSpec = {
  name: 'iso8583-1987-binary',
  description:
    'ISO 8583:1987, BCD MTI, binary bitmaps, BCD numerics and length prefixes, field 55 as BER-TLV',
  mti: { encoding: 'bcd' },
  bitmap: { encoding: 'binary' },
  fields: fieldsOf({ digits: 'bcd', prefix: 'bcd' }),
};

/** The specs Amulet ships, by name. */
export const shippedSpecs: Readonly<Record<string, MessageSpec>> = {
  [iso8583Ascii1987.name]: iso8583Ascii1987,
  [iso8583Binary1987.name]: iso8583Binary1987,
};
