import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findClearPans, luhnValid, openStore, outsideHexWords } from '../src/index.ts';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

function withCheckDigit(body: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(body + d)) return body + d;
  throw new Error('unreachable');
}

const noDigitBytes = fc
  .uint8Array({ maxLength: 64 })
  .map((b) => b.map((x) => (x >= 0x30 && x <= 0x39 ? 0x2e : x)));
const panLike = fc
  .integer({ min: 12, max: 18 })
  .chain((n) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n }))
  .map(withCheckDigit);

describe('findClearPans', () => {
  it('applies the Luhn check (ISO/IEC 7812-1 Annex B)', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('79927398713')).toBe(true);
  });

  it('finds a Luhn-valid run of 13 to 19 digits and reports its offset', () => {
    const hits = findClearPans(ascii('pan=4111111111111111;x=4111111111111112;short=79927398713'));
    expect(hits).toEqual([{ offset: 4, digits: '4111111111111111' }]);
  });

  it('finds every PAN embedded in bytes without digits', () => {
    fc.assert(
      fc.property(noDigitBytes, panLike, noDigitBytes, (head, pan, tail) => {
        const bytes = new Uint8Array([...head, ...ascii(pan), ...tail]);
        expect(findClearPans(bytes)).toEqual([{ offset: head.length, digits: pan }]);
      }),
    );
  });

  it('finds a PAN glued to other digits inside a longer run', () => {
    const pan = withCheckDigit('476173900000001');
    const hits = findClearPans(ascii(`x00000${pan}00000x`));
    expect(hits.some((h) => h.digits === pan && h.offset === 6)).toBe(true);
  });

  it('never throws, and reports only Luhn-valid 13-19 digit windows', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        for (const hit of findClearPans(bytes)) {
          expect(hit.digits).toMatch(/^\d{13,19}$/);
          expect(luhnValid(hit.digits)).toBe(true);
          expect(
            new TextDecoder('latin1').decode(bytes.subarray(hit.offset, hit.offset + hit.digits.length)),
          ).toBe(hit.digits);
        }
      }),
    );
  });

  it('would catch a PAN stored in clear in a SQLite file or its WAL (control for the vault scan)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amulet-scan-'));
    try {
      const file = join(dir, 'leak.db');
      const store = await openStore({ kind: 'sqlite', file });
      const pan = withCheckDigit('476173912345678');
      await store.requestors.add({ trid: '12345678901', name: `leaked ${pan}`, tenant: 't' });
      const found = [file, `${file}-wal`].flatMap((path) =>
        findClearPans(readFileSync(path)).map((h) => h.digits),
      );
      await store.close();
      expect(found).toContain(pan);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('outsideHexWords', () => {
  const pan = '4111111111111111';
  const kept = (text: string): number[] => {
    const bytes = ascii(text);
    return outsideHexWords(bytes, findClearPans(bytes)).map((hit) => hit.offset);
  };

  it('drops a run inside a hexadecimal word of 32 characters or more with a letter in it', () => {
    expect(kept(`h=ab${pan}${'c'.repeat(14)};`)).toEqual([]);
    expect(kept(`h=AB${pan}${'C'.repeat(14)};`)).toEqual([]);
  });

  it('keeps a run among words, in a short hex word, or in a long run of digits alone', () => {
    expect(kept(`"id":"${pan}"`)).toEqual([6]);
    expect(kept(`ab${pan}cd`)).toEqual([2]);
    expect(kept(`x${pan}${'0'.repeat(20)}x`).length).toBeGreaterThan(0);
    // A letter outside a-f ends the word: "g" and "z" are not hexadecimal.
    expect(kept(`zz${pan}${'g'.repeat(20)}`)).toEqual([2]);
  });

  it('drops nothing from bytes without hexadecimal letters', () => {
    fc.assert(
      fc.property(noDigitBytes, panLike, noDigitBytes, (head, p, tail) => {
        const clean = (b: Uint8Array) => b.map((x) => (isHexLetter(x) ? 0x2e : x));
        const bytes = new Uint8Array([...clean(head), ...ascii(p), ...clean(tail)]);
        expect(outsideHexWords(bytes, findClearPans(bytes))).toEqual(findClearPans(bytes));
      }),
    );
  });
});

function isHexLetter(b: number): boolean {
  return (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
}
