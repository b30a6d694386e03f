import { fromHex, toHex } from '@amulet/bytes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeTlv,
  describeTlv,
  encodeTlv,
  formatTlv,
  maskTlv,
  TlvError,
  type TlvNode,
} from '../src/index.ts';

/** A PAN as its dictionary format stores it: cn, BCD digits left-justified, padded with F. */
function panBytes(pan: string): Uint8Array {
  return fromHex(pan.length % 2 === 0 ? pan : `${pan}F`);
}

function cardTree(pan: string, secret: Uint8Array): TlvNode[] {
  const track2 = fromHex(`${pan}D2512201${'1234567890'}${pan.length % 2 === 0 ? '' : 'F'}`);
  return [
    {
      tag: '70',
      children: [
        { tag: '5A', value: panBytes(pan) },
        { tag: '57', value: track2 },
        { tag: '5F20', value: new TextEncoder().encode('DOE/JANE') },
        { tag: '56', value: new TextEncoder().encode(`B${pan}^DOE/JANE^2512`) },
        { tag: '9F02', value: fromHex('000000001000') },
      ],
    },
    {
      tag: '77',
      children: [
        { tag: '9F6B', value: track2 },
        { tag: '9F26', value: secret },
        { tag: '9F10', value: fromHex('06010A03A00000') },
        { tag: '99', value: secret },
      ],
    },
  ];
}

const panArbitrary = fc
  .tuple(
    fc.integer({ min: 13, max: 19 }),
    fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 19, maxLength: 19 }),
  )
  .map(([length, digits]) => digits.slice(0, length).join(''));

describe('masking', () => {
  it('never shows a PAN, track data, a name or a cryptogram unless revealed', () => {
    fc.assert(
      fc.property(panArbitrary, fc.uint8Array({ minLength: 8, maxLength: 8 }), (pan, secret) => {
        const tree = cardTree(pan, secret);
        const hidden = [
          pan,
          toHex(panBytes(pan)),
          toHex(tree[0]!.children![1]!.value!),
          'DOE/JANE',
          toHex(secret),
        ];
        const masked = [formatTlv(tree), JSON.stringify(describeTlv(tree))];
        for (const text of masked) for (const value of hidden) expect(text).not.toContain(value);
        const middle = pan.slice(6, -4);
        expect(formatTlv(tree)).toContain(`${pan.slice(0, 6)}${'*'.repeat(middle.length)}${pan.slice(-4)}`);
        // The same output with reveal does contain every value, so the check above can fail.
        const revealed =
          formatTlv(tree, { reveal: true }) + JSON.stringify(describeTlv(tree, { reveal: true }));
        for (const value of hidden.slice(1)) expect(revealed).toContain(value);
      }),
      { numRuns: 1_000 },
    );
  });

  it('masks PAN and track 2 as first six and last four digits', () => {
    expect(maskTlv('5A', fromHex('5413330089600010'))).toEqual({ text: '541333******0010', masked: true });
    expect(maskTlv('5A', fromHex('5413330089600010FF')).text).toBe('541333******0010');
    expect(maskTlv('5A', fromHex('123456789F')).text).toBe('*****6789');
    expect(maskTlv('5A', fromHex('1234')).text).toBe('****');
    expect(maskTlv('57', fromHex('5413330089600010D25122011234567F')).text).toBe(
      `541333******0010D${'*'.repeat(15)}`,
    );
    expect(maskTlv('9F6B', fromHex('54133300896000')).text).toBe('[7 bytes masked]');
    expect(maskTlv('9F26', fromHex('0102030405060708'))).toEqual({ text: '[8 bytes masked]', masked: true });
    expect(maskTlv('9F26', fromHex('0102030405060708'), { reveal: true }).text).toBe('0102030405060708');
    expect(maskTlv('9F02', fromHex('000000001000'))).toEqual({ text: '000000001000', masked: false });
    expect(maskTlv('DF9999', fromHex('AB'))).toEqual({ text: 'AB', masked: false });
  });

  it('describes with names and masked markers, and prints an indented tree', () => {
    const tree = decodeTlv(fromHex('6F1A840E325041592E5359532E4444463031A5085F2D02656E880102'));
    expect(describeTlv(tree)[0]).toEqual({
      tag: '6F',
      name: 'File Control Information (FCI) Template',
      children: [
        { tag: '84', name: 'Dedicated File (DF) Name', value: '325041592E5359532E4444463031' },
        {
          tag: 'A5',
          name: 'FCI Proprietary Template',
          children: [
            { tag: '5F2D', name: 'Language Preference', value: '656E' },
            { tag: '88', name: 'Short File Identifier (SFI)', value: '02' },
          ],
        },
      ],
    });
    expect(formatTlv(tree).split('\n')).toEqual([
      '6F File Control Information (FCI) Template',
      '  84 Dedicated File (DF) Name: 325041592E5359532E4444463031',
      '  A5 FCI Proprietary Template',
      '    5F2D Language Preference: 656E "en"',
      '    88 Short File Identifier (SFI): 02',
    ]);
    expect(formatTlv([{ tag: 'DF9999', value: fromHex('01') }])).toBe('DF9999 (unknown tag): 01');
    expect(describeTlv([{ tag: '5A', value: fromHex('5413330089600010') }])).toEqual([
      {
        tag: '5A',
        name: 'Application Primary Account Number (PAN)',
        value: '541333******0010',
        masked: true,
      },
    ]);
  });

  it('keeps values out of error messages', () => {
    fc.assert(
      fc.property(panArbitrary, fc.nat(), (pan, at) => {
        const bytes = encodeTlv(cardTree(pan, fromHex('A1B2C3D4E5F60718')));
        try {
          decodeTlv(bytes.subarray(0, 2 + (at % (bytes.length - 2))));
        } catch (error) {
          expect(error).toBeInstanceOf(TlvError);
          const message = (error as TlvError).message;
          for (const value of [pan, toHex(panBytes(pan)), 'A1B2C3D4E5F60718'])
            expect(message).not.toContain(value);
        }
      }),
      { numRuns: 1_000 },
    );
  });
});
