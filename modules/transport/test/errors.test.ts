import { readFileSync } from 'node:fs';
import { AmuletError } from '@amulet/bytes';
import { describe, expect, it } from 'vitest';
import { backoffDelay, TransportError, transportErrorCodes } from '../src/index.ts';

describe('transport errors', () => {
  it('extend AmuletError with a stable code', () => {
    const error = new TransportError('ERR_TIMEOUT', 'no response');
    expect(error).toBeInstanceOf(AmuletError);
    expect(error.name).toBe('TransportError');
    expect(error.code).toBe('ERR_TIMEOUT');
  });

  it('are the codes the documentation lists, no more and no fewer', () => {
    const docs = readFileSync(new URL('../../../docs/transport.md', import.meta.url), 'utf8');
    const documented = new Set(docs.match(/`ERR_[A-Z0-9_]+`/g)?.map((code) => code.slice(1, -1)));
    expect([...documented].sort()).toEqual(Object.keys(transportErrorCodes).sort());
  });
});

describe('backoffDelay', () => {
  it('grows by the factor up to the ceiling, jitter taking up to its fraction off', () => {
    const options = { initialDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0.5 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, options, () => 0))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect([1, 2, 3].map((n) => backoffDelay(n, options, () => 0.999999))).toEqual([50, 100, 200]);
    expect(backoffDelay(2, { ...options, jitter: 0 }, () => 0.7)).toBe(200);
  });

  it('refuses options out of range', () => {
    for (const bad of [
      { jitter: 1.5 },
      { factor: 0.5 },
      { initialDelayMs: 10, maxDelayMs: 5 },
      { initialDelayMs: -1 },
    ]) {
      expect(() => backoffDelay(1, bad, () => 0)).toThrow(expect.objectContaining({ code: 'ERR_OPTIONS' }));
    }
  });
});
