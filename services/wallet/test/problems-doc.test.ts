import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WALLET_PROBLEMS } from '../src/index.ts';

describe('the error table', () => {
  it('docs/wallet.md lists exactly the codes, statuses and titles of WALLET_PROBLEMS', () => {
    const doc = readFileSync(new URL('../../../docs/wallet.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `(ERR_[A-Z_]+)` *\| *(\d{3}) *\| *(.+?) *\|$/gm)].map((m) => [
      m[1],
      Number(m[2]),
      m[3],
    ]);
    const table = Object.entries(WALLET_PROBLEMS).map(([code, p]) => [code, p.status, p.title]);
    expect(rows).toEqual(table);
  });
});
