import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { iso8583ErrorCodes } from '../src/index.ts';

const codes = Object.keys(iso8583ErrorCodes).sort();

describe('ISO 8583 error codes', () => {
  it('docs/iso8583.md lists exactly the codes of the table', () => {
    const docs = readFileSync(new URL('../../../docs/iso8583.md', import.meta.url), 'utf8');
    const documented = new Set([...docs.matchAll(/`(ERR_ISO8583_[A-Z_]+)`/g)].map((match) => match[1]));
    expect([...documented].sort()).toEqual(codes);
  });

  it('the sources use exactly the codes of the table', () => {
    const dir = new URL('../src/', import.meta.url);
    const used = new Set<string>();
    for (const file of readdirSync(dir)) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      for (const match of source.matchAll(/'(ERR_ISO8583_[A-Z_]+)'/g)) used.add(match[1]!);
    }
    expect([...used].sort()).toEqual(codes);
  });
});
