import { inspect } from 'node:util';
import { fromHex } from '@amulet/bytes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  describeMessage,
  type FieldValue,
  formatMessage,
  iso8583Ascii1987,
  iso8583Binary1987,
  maskPan,
  pack,
  unpack,
} from '../src/index.ts';

const PAN = '4761739001010119';
const TRACK2 = '4761739001010119D22122011758928889';
const TRACK1 = 'B4761739001010119^CARDHOLDER/JANE^2212201000000000000';
const CRYPTOGRAM = '1F2E3D4C5B6A7988';
const PIN_BLOCK = '0412AC89ABCDEF67';
const IAD = '06010A03A0A000';
const PRIVATE_TAG_VALUE = 'C0FFEE0123456789';

const fields = new Map<number, FieldValue>([
  [2, PAN],
  [4, '000000001250'],
  [35, TRACK2],
  [41, 'TERM0001'],
  [45, TRACK1],
  [52, fromHex(PIN_BLOCK)],
  [
    55,
    [
      { tag: '9F26', value: fromHex(CRYPTOGRAM) },
      { tag: '9F10', value: fromHex(IAD) },
      { tag: '9F02', value: fromHex('000000001250') },
      { tag: 'DF8101', value: fromHex(PRIVATE_TAG_VALUE) },
    ],
  ],
]);
const SECRETS = [
  PAN,
  TRACK2,
  TRACK1,
  '22122011758928889',
  CRYPTOGRAM,
  PIN_BLOCK,
  PRIVATE_TAG_VALUE,
  '739001010',
];

for (const spec of [iso8583Ascii1987, iso8583Binary1987]) {
  describe(`masking with ${spec.name}`, () => {
    const message = unpack(spec, pack(spec, { mti: '0200', fields }));
    const outputs = {
      describeMessage: JSON.stringify(describeMessage(spec, message)),
      formatMessage: formatMessage(spec, message),
      'JSON.stringify': JSON.stringify(message),
      'util.inspect': inspect(message),
      'template string': `${message}`,
    };

    for (const [name, output] of Object.entries(outputs)) {
      it(`${name} never holds the PAN, track data, PIN block or cryptogram`, () => {
        for (const secret of SECRETS) expect(output).not.toContain(secret);
        expect(output).toContain('476173******0119');
        expect(output).toContain('TERM0001');
        expect(output).toContain('000000001250'); // public values stay readable
      });
    }

    it('marks what it masked and names the field 55 tags', () => {
      const described = describeMessage(spec, message);
      const byField = new Map(described.fields.map((field) => [field.field, field]));
      expect(byField.get('2')).toMatchObject({ value: '476173******0119', masked: true });
      expect(byField.get('35')).toMatchObject({ value: '[34 characters masked]', masked: true });
      expect(byField.get('52')).toMatchObject({ value: '[8 bytes masked]', masked: true });
      expect(byField.get('55')?.tlv).toEqual([
        { tag: '9F26', name: expect.any(String), value: '[8 bytes masked]', masked: true },
        { tag: '9F10', name: expect.any(String), value: '[7 bytes masked]', masked: true },
        { tag: '9F02', name: expect.any(String), value: '000000001250' },
        { tag: 'DF8101', value: '[8 bytes masked]', masked: true },
      ]);
      expect(described.mtiName).toBe('financial request from the acquirer (ISO 8583:1987)');
    });

    it('reveal shows every value', () => {
      const revealed = JSON.stringify(describeMessage(spec, message, { reveal: true }));
      for (const secret of [PAN, TRACK2, TRACK1, CRYPTOGRAM, PIN_BLOCK, PRIVATE_TAG_VALUE])
        expect(revealed).toContain(secret);
      expect(revealed).not.toContain('masked');
    });
  });
}

describe('maskPan', () => {
  it('keeps at most the first six and last four digits', () => {
    expect(maskPan('5413330089600010')).toBe('541333******0010');
    expect(maskPan('1234567890123456789')).toBe('123456*********6789');
    expect(maskPan('123456789012')).toBe('********9012');
    expect(maskPan('1234')).toBe('****');
  });

  it('never gives back a PAN of 13 to 19 digits', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{13,19}$/), (pan) => {
        const masked = maskPan(pan);
        expect(masked).toHaveLength(pan.length);
        expect(masked.slice(6, -4)).toMatch(/^\*+$/);
        expect(masked.replace(/\*/g, '')).toBe(pan.slice(0, 6) + pan.slice(-4));
      }),
      { numRuns: 1000 },
    );
  });
});
