import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apduErrorCodes } from '../src/index.ts';

describe('APDU error codes', () => {
  it('the sources throw exactly the codes of the table', () => {
    const dir = new URL('../src/', import.meta.url);
    const thrown = new Set<string>();
    for (const file of readdirSync(dir)) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      for (const match of source.matchAll(/new ApduError\(\s*'([A-Z_]+)'/g)) thrown.add(match[1]!);
    }
    expect([...thrown].sort()).toEqual(Object.keys(apduErrorCodes).sort());
  });
});
