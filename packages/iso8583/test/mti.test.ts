import { describe, expect, it } from 'vitest';
import { describeMti, Iso8583Error, isRepeat, messagePairs, parseMti, responseMtiFor } from '../src/index.ts';

describe('MTI', () => {
  it('splits an MTI into version, class, function and origin', () => {
    expect(parseMti('0421')).toEqual({
      mti: '0421',
      version: '0',
      messageClass: '4',
      function: '2',
      origin: '1',
    });
    expect(describeMti('0421')).toBe(
      'reversal or chargeback advice from the acquirer repeat (ISO 8583:1987)',
    );
    expect(describeMti('0810')).toBe('network management request response from the acquirer (ISO 8583:1987)');
  });

  it('gives the response of each request and of its repeat', () => {
    expect(responseMtiFor('0100')).toBe('0110');
    expect(responseMtiFor('0200')).toBe('0210');
    expect(responseMtiFor('0400')).toBe('0410');
    expect(responseMtiFor('0420')).toBe('0430');
    expect(responseMtiFor('0421')).toBe('0430');
    expect(responseMtiFor('0800')).toBe('0810');
    expect(messagePairs.map((pair) => pair.request)).toEqual(['0100', '0200', '0400', '0420', '0800']);
  });

  it('tells repeats from originals', () => {
    expect(isRepeat('0421')).toBe(true);
    expect(isRepeat('0101')).toBe(true);
    expect(isRepeat('0420')).toBe(false);
    expect(isRepeat('0110')).toBe(false);
  });

  it('refuses malformed MTIs and MTIs with no response', () => {
    for (const bad of ['', '020', '02000', '02a0', ' 200']) {
      expect(() => parseMti(bad)).toThrow(Iso8583Error);
    }
    expect(() => responseMtiFor('0110')).toThrow('MTI 0110 is not a request in the message pair table');
    expect(() => responseMtiFor('0500')).toThrow(Iso8583Error);
  });
});
