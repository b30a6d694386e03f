import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@amulet/transport';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkBalanced,
  decisionReasons,
  isExpired,
  isPan,
  issuerErrorCodes,
  luhnValid,
  maskCardNumber,
  newPan,
  nextCardStatus,
  postingLines,
  randomBytesFrom,
} from '../src/index.ts';
import { clearPansIn } from './fixtures.ts';

describe('card numbers', () => {
  it('makes Luhn-valid PANs under a BIN, replayable from the seed', () => {
    const a = randomBytesFrom(seededRandom(3));
    const b = randomBytesFrom(seededRandom(3));
    for (let i = 0; i < 50; i++) {
      const pan = newPan('476173', 16, a);
      expect(isPan(pan)).toBe(true);
      expect(pan.startsWith('476173')).toBe(true);
      expect(newPan('476173', 16, b)).toBe(pan);
    }
    expect(luhnValid('4761739001010119')).toBe(true);
    expect(luhnValid('4761739001010118')).toBe(false);
  });

  it('masks to the first six and last four', () => {
    expect(maskCardNumber('4761739001010119')).toBe('476173******0119');
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{13,19}$/), (pan) => {
        const masked = maskCardNumber(pan);
        expect(masked.slice(0, 6)).toBe(pan.slice(0, 6));
        expect(masked.slice(-4)).toBe(pan.slice(-4));
        expect(masked.slice(6, -4)).toMatch(/^\*+$/);
      }),
    );
  });

  it('is valid through the last day of its expiry month', () => {
    expect(isExpired('2612', new Date('2026-12-31T23:59:59Z'))).toBe(false);
    expect(isExpired('2612', new Date('2027-01-01T00:00:00Z'))).toBe(true);
    expect(isExpired('2611', new Date('2026-12-03T00:00:00Z'))).toBe(true);
  });
});

describe('the clear PAN scan the suites rely on', () => {
  it('finds a PAN written in clear (control)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'amulet-issuer-scan-'));
    try {
      writeFileSync(join(dir, 'leak.db'), Buffer.from('xx4761739001010119yy'));
      writeFileSync(join(dir, 'clean.db'), Buffer.from('xx476173******0119yy'));
      expect(
        clearPansIn([join(dir, 'leak.db'), join(dir, 'clean.db')], new Set(['4761739001010119'])).length,
      ).toBeGreaterThan(0);
      expect(clearPansIn([join(dir, 'clean.db')], new Set(['4761739001010119']))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ledger postings', () => {
  it('every posting kind balances, and an unbalanced one is refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 0, max: 1e9 }), (a, b) => {
        const held = Math.max(a, b);
        const captured = Math.min(a, b);
        for (const lines of [
          postingLines.deposit('x', a),
          postingLines.hold('x', a),
          postingLines.release('x', a),
          postingLines.capture('x', held, captured),
        ])
          expect(lines.reduce((s, l) => s + l.amountMinor, 0)).toBe(0);
      }),
    );
    expect(() =>
      checkBalanced([
        { account: 'a', amountMinor: 1 },
        { account: 'b', amountMinor: -2 },
      ]),
    ).toThrow(expect.objectContaining({ code: 'ERR_ISSUER_LEDGER' }));
  });
});

describe('card status', () => {
  it('lets active, blocked and lost move among themselves, and keeps closed closed', () => {
    expect(nextCardStatus('active', 'lost')).toBe('lost');
    expect(nextCardStatus('lost', 'active')).toBe('active');
    expect(nextCardStatus('blocked', 'closed')).toBe('closed');
    expect(() => nextCardStatus('closed', 'active')).toThrow(
      expect.objectContaining({ code: 'ERR_ISSUER_STATUS' }),
    );
    expect(() => nextCardStatus('active', 'stolen' as never)).toThrow(
      expect.objectContaining({ code: 'ERR_ISSUER_INPUT' }),
    );
  });
});

describe('docs/issuer.md', () => {
  const docs = readFileSync(new URL('../../../docs/issuer.md', import.meta.url), 'utf8');
  it('lists every decision reason with its response code, in the order of the code', () => {
    const rows = [...docs.matchAll(/^\| `([A-Z_]+)` +\| `([0-9A-Z]{2})` +\|/gm)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(Object.entries(decisionReasons).map(([reason, { code }]) => [reason, code]));
  });
  it('lists every error code', () => {
    const codes = [...docs.matchAll(/^\| `(ERR_ISSUER_[A-Z_]+)` /gm)].map((m) => m[1]);
    expect(codes).toEqual([...issuerErrorCodes]);
  });
});
