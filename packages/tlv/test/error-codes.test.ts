import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tlvErrorCodes } from '../src/index.ts';

const codes = Object.keys(tlvErrorCodes).sort();

describe('TLV error codes', () => {
  it('docs/tlv.md lists exactly the codes of the table', () => {
    const docs = readFileSync(new URL('../../../docs/tlv.md', import.meta.url), 'utf8');
    const documented = new Set(
      [...docs.matchAll(/`((?:ERR_TLV|ERR_DOL)_[A-Z_]+)`/g)].map((match) => match[1]),
    );
    expect([...documented].sort()).toEqual(codes);
  });

  it('the sources throw exactly the codes of the table', () => {
    const dir = new URL('../src/', import.meta.url);
    const thrown = new Set<string>();
    for (const file of readdirSync(dir)) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      for (const match of source.matchAll(/new TlvError\(\s*'([A-Z_]+)'/g)) thrown.add(match[1]!);
    }
    expect([...thrown].sort()).toEqual(codes);
  });
});
