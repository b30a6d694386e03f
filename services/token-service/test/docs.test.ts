import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ProvisioningFailure, tokenServiceErrors } from '../src/index.ts';

describe('docs/token-service.md', () => {
  it('lists exactly the error codes of tokenServiceErrors, with the same HTTP status and meaning', () => {
    const doc = readFileSync(new URL('../../../docs/token-service.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `(ERR_TSP_[A-Z_]+)` +\| (\d{3}) +\| ([^|]+?) +\|$/gm)].map((m) => [
      m[1],
      Number(m[2]),
      m[3],
    ]);
    const table = Object.entries(tokenServiceErrors).map(([code, e]) => [code, e.status, e.title]);
    expect(rows).toEqual(table);
  });

  it('lists exactly the provisioning failure reasons of ProvisioningFailure, in its order', () => {
    const doc = readFileSync(new URL('../../../docs/token-service.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `([A-Z_]+)` +\| [^|]+\|$/gm)]
      .map((m) => m[1])
      .filter((code) => code !== undefined && !code.startsWith('ERR_'));
    expect(rows).toEqual(Object.values(ProvisioningFailure));
  });
});
