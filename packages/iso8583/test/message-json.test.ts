import { fromHex, toHex } from '@amulet/bytes';
import { describe, expect, it } from 'vitest';
import {
  describeMessage,
  type FieldValue,
  Iso8583Error,
  iso8583Ascii1987,
  messageFromJson,
  pack,
  parseSpecJson,
} from '../src/index.ts';
import example from './specs/example-private-use.json' with { type: 'json' };

const spec = parseSpecJson(example);
const fields = new Map<number, FieldValue>([
  [2, '4761739001010119'],
  [4, '000000001250'],
  [
    55,
    [
      { tag: '9F26', value: fromHex('1F2E3D4C5B6A7988') },
      { tag: '70', children: [{ tag: '9F27', value: fromHex('80') }] },
    ],
  ],
  [
    62,
    new Map<string, FieldValue>([
      ['1', '07'],
      ['2', '40010030273'],
      ['3', 'Wallet'],
      ['4', fromHex('0102030405060708')],
    ]),
  ],
]);

function errorOf(action: () => unknown): Iso8583Error {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(Iso8583Error);
    return error as Iso8583Error;
  }
  throw new Error('expected an Iso8583Error');
}

describe('messages as JSON', () => {
  it('reads the hand-written form: text, hex for binary and BER-TLV, objects for subfields', () => {
    const message = messageFromJson(spec, {
      mti: '0200',
      fields: {
        2: '4761739001010119',
        4: '000000001250',
        55: '9F26081F2E3D4C5B6A79887004' + '9F2701' + '80',
        62: { 1: '07', 2: '40010030273', 3: 'Wallet', 4: '0102030405060708' },
      },
    });
    expect(message.mti).toBe('0200');
    expect(message.fields).toEqual(fields);
  });

  it('reads back what describeMessage gives with reveal', () => {
    const described = JSON.parse(
      JSON.stringify(describeMessage(spec, { mti: '0200', fields }, { reveal: true })),
    );
    const message = messageFromJson(spec, described);
    expect(toHex(pack(spec, message))).toBe(toHex(pack(spec, { mti: '0200', fields })));
  });

  it('refuses masked values, unknown fields and malformed values, naming where', () => {
    const masked = JSON.parse(JSON.stringify(describeMessage(spec, { mti: '0200', fields })));
    expect(errorOf(() => messageFromJson(spec, masked))).toMatchObject({
      code: 'ERR_ISO8583_JSON',
      path: ['2'],
    });
    expect(errorOf(() => messageFromJson(spec, { mti: '0200', fields: { 3: '000000' } }))).toMatchObject({
      code: 'ERR_ISO8583_FIELD',
      path: ['3'],
    });
    expect(errorOf(() => messageFromJson(spec, { mti: '0200', fields: { 55: '9F2609' } })).path).toEqual([
      '55',
      '9F26',
    ]);
    expect(errorOf(() => messageFromJson(spec, { mti: '0200', fields: { 62: { 9: 'x' } } })).path).toEqual([
      '62',
      '9',
    ]);
    expect(
      errorOf(() => messageFromJson(iso8583Ascii1987, { mti: '0200', fields: { 52: 'XYZ' } })).message,
    ).toBe('the message JSON field 52 must be hex with an even number of digits');
    expect(errorOf(() => messageFromJson(spec, { mti: 200, fields: {} })).path).toEqual(['mti']);
    expect(errorOf(() => messageFromJson(spec, { mti: '0200', fields: {}, extra: 1 })).code).toBe(
      'ERR_ISO8583_JSON',
    );
    expect(errorOf(() => messageFromJson(spec, 'text')).code).toBe('ERR_ISO8583_JSON');
  });
});
