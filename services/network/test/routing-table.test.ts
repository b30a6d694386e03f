import { describe, expect, it } from 'vitest';
import { RoutingError, RoutingTable } from '../src/index.ts';

describe('the BIN routing table', () => {
  const table = new RoutingTable([
    { low: '400000', high: '499999', kind: 'issuer', destination: 'visa-issuers' },
    { low: '476173900', high: '476173909', kind: 'token', destination: 'tsp' },
    { low: '401200', high: '401299', kind: 'issuer', destination: 'bank-a' },
  ]);

  it('the narrowest range wins: a token BIN inside a wider issuer range goes to the token service', () => {
    expect(table.find('4761739001010010')?.destination).toBe('tsp');
    expect(table.find('4761739101010010')?.destination).toBe('visa-issuers');
    expect(table.find('4012000000000017')?.destination).toBe('bank-a');
  });

  it('bounds are inclusive; outside every range, or not a PAN, is no route', () => {
    expect(table.find('4761739091010010')?.destination).toBe('tsp');
    expect(table.find('5413330000000000')).toBeUndefined();
    expect(table.find('47617390')).toBeUndefined();
    expect(table.find('4761739001O10010')).toBeUndefined();
  });

  it('refuses malformed ranges', () => {
    expect(() => new RoutingTable([{ low: '4000', high: '4999', kind: 'issuer', destination: 'x' }])).toThrow(
      RoutingError,
    );
    expect(
      () => new RoutingTable([{ low: '499999', high: '400000', kind: 'issuer', destination: 'x' }]),
    ).toThrow(RoutingError);
    expect(
      () => new RoutingTable([{ low: '400000', high: '4999999', kind: 'issuer', destination: 'x' }]),
    ).toThrow(RoutingError);
  });
});
