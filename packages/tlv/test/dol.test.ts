import { fromHex, toHex } from '@amulet/bytes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildDolData, type DolEntry, encodeDol, parseDol, splitDolData, TlvError } from '../src/index.ts';

// A typical contactless PDOL: TTQ, amount, other amount, country, TVR, currency, date, type, UN.
const pdol = fromHex('9F66049F02069F03069F1A0295055F2A029A039C019F3704');

describe('DOL parsing (EMV Book 3 5.4)', () => {
  it('parses a PDOL into tag and length entries and encodes it back', () => {
    const entries = parseDol(pdol);
    expect(entries.map((entry) => `${entry.tag}:${entry.length}`).join(' ')).toBe(
      '9F66:4 9F02:6 9F03:6 9F1A:2 95:5 5F2A:2 9A:3 9C:1 9F37:4',
    );
    expect(encodeDol(entries)).toEqual(pdol);
  });

  it('refuses malformed DOLs with typed errors', () => {
    for (const hex of ['9F', '9F66', '9F6680', '9F668104', '0004']) {
      expect(() => parseDol(fromHex(hex)), hex).toThrow(TlvError);
    }
    expect(() => encodeDol([{ tag: '9F02', length: 256 }])).toThrow(TlvError);
    expect(() => encodeDol([{ tag: '9F02', length: -1 }])).toThrow(TlvError);
  });

  it('round-trips generated DOLs and never crashes on random bytes', () => {
    const tag = fc.constantFrom('9F02', '5A', '9C', '9F37', 'DF8129', '70', '95', 'BF0C');
    const entry = fc.record({ tag, length: fc.integer({ min: 0, max: 255 }) });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 20 }), (entries: DolEntry[]) => {
        expect(parseDol(encodeDol(entries))).toEqual(entries);
      }),
      { numRuns: 10_000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          parseDol(bytes);
        } catch (error) {
          if (!(error instanceof TlvError)) throw error;
        }
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('DOL data (EMV Book 3 5.4)', () => {
  const entries = parseDol(pdol);

  it('concatenates the values in DOL order when lengths match', () => {
    const data = buildDolData(entries, {
      '9F66': fromHex('36004000'),
      '9F02': fromHex('000000001000'),
      '9F03': fromHex('000000000000'),
      '9F1A': fromHex('0826'),
      '95': fromHex('0000000000'),
      '5F2A': fromHex('0826'),
      '9A': fromHex('250101'),
      '9C': fromHex('00'),
      '9F37': fromHex('CAFEBABE'),
    });
    expect(toHex(data)).toBe('36004000000000001000000000000000082600000000000826250101' + '00CAFEBABE');
  });

  it('zero-fills missing values and constructed tags', () => {
    const dol = [
      { tag: '9F37', length: 4 },
      { tag: '70', length: 3 },
    ];
    expect(toHex(buildDolData(dol, new Map([['70', fromHex('010203')]])))).toBe('00000000000000');
  });

  it('pads and truncates numeric values on the left', () => {
    const dol = [{ tag: '9F02', length: 6 }];
    expect(toHex(buildDolData(dol, { '9F02': fromHex('1234') }))).toBe('000000001234');
    expect(toHex(buildDolData(dol, { '9f02': fromHex('AABB000000001234') }))).toBe('000000001234');
  });

  it('pads cn values with FF and truncates them on the right', () => {
    const dol = [{ tag: '5A', length: 10 }];
    expect(toHex(buildDolData(dol, { '5A': fromHex('5413330089600010') }))).toBe('5413330089600010FFFF');
    expect(toHex(buildDolData([{ tag: '5A', length: 4 }], { '5A': fromHex('5413330089600010') }))).toBe(
      '54133300',
    );
  });

  it('pads and truncates binary and text values on the right', () => {
    const dol = [
      { tag: '9F37', length: 4 },
      { tag: '9F4E', length: 6 },
      { tag: 'DF9999', length: 3 },
    ];
    const data = buildDolData(dol, {
      '9F37': fromHex('AABBCCDDEE'),
      '9F4E': fromHex('414243'),
      DF9999: fromHex('01'),
    });
    expect(toHex(data)).toBe('AABBCCDD' + '414243000000' + '010000');
  });

  it('splits DOL data back into values and refuses the wrong length or duplicate tags', () => {
    const data = fromHex('AABBCCDD000000001234');
    const dol = [
      { tag: '9F37', length: 4 },
      { tag: '9F02', length: 6 },
    ];
    const values = splitDolData(dol, data);
    expect(values.get('9F37')).toEqual(fromHex('AABBCCDD'));
    expect(values.get('9F02')).toEqual(fromHex('000000001234'));
    expect(() => splitDolData(dol, data.subarray(1))).toThrow(TlvError);
    const duplicate = [...dol, { tag: '9f37', length: 0 }];
    expect(() => splitDolData(duplicate, data)).toThrow(/9F37 more than once/);
    expect(() => buildDolData(dol, { '9F37': 'AABB' as unknown as Uint8Array })).toThrow(TlvError);
  });

  it('split(build(values)) gives back values that already have the DOL lengths', () => {
    const dol = parseDol(pdol);
    fc.assert(
      fc.property(
        fc.tuple(...dol.map((entry) => fc.uint8Array({ minLength: entry.length, maxLength: entry.length }))),
        (values) => {
          const byTag = new Map(dol.map((entry, i) => [entry.tag, values[i]!]));
          expect(splitDolData(dol, buildDolData(dol, byTag))).toEqual(byTag);
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
