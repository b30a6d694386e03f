import { fromHex, toHex } from '@amulet/bytes';
import { describe, expect, it } from 'vitest';
import {
  ApduError,
  encodeCommandApdu,
  generateAc,
  getData,
  getProcessingOptions,
  getResponse,
  ReferenceControl,
  readRecord,
  selectByName,
} from '../src/index.ts';

const hex = (apdu: Parameters<typeof encodeCommandApdu>[0]) => toHex(encodeCommandApdu(apdu));

describe('EMV command builders', () => {
  it('SELECT by name', () => {
    expect(hex(selectByName(new TextEncoder().encode('2PAY.SYS.DDF01')))).toBe(
      '00A404000E325041592E5359532E444446303100',
    );
    expect(hex(selectByName(fromHex('A000000004'), { next: true }))).toBe('00A4040205A00000000400');
    expect(() => selectByName(new Uint8Array(17))).toThrow(ApduError);
    expect(() => selectByName(new Uint8Array(0))).toThrow(ApduError);
  });

  it('READ RECORD', () => {
    expect(hex(readRecord(1, 1))).toBe('00B2010C00');
    expect(hex(readRecord(2, 3))).toBe('00B2021C00');
    expect(() => readRecord(0, 1)).toThrow(ApduError);
    expect(() => readRecord(1, 31)).toThrow(ApduError);
  });

  it('GET DATA', () => {
    expect(hex(getData('9F36'))).toBe('80CA9F3600');
    expect(hex(getData('9f17'))).toBe('80CA9F1700');
    expect(hex(getData('C1'))).toBe('80CA00C100');
    expect(() => getData('9F3601')).toThrow(ApduError);
  });

  it('GET PROCESSING OPTIONS wraps the PDOL data in template 83', () => {
    expect(hex(getProcessingOptions())).toBe('80A80000028300' + '00');
    expect(hex(getProcessingOptions(fromHex('36004000')))).toBe('80A8000006830436004000' + '00');
    const long = getProcessingOptions(new Uint8Array(130));
    expect(toHex(long.data!.subarray(0, 3))).toBe('838182');
    expect(() => getProcessingOptions(new Uint8Array(253))).toThrow(ApduError);
  });

  it('GENERATE AC with the reference control in P1', () => {
    const cdol = fromHex('000000001000');
    expect(hex(generateAc(ReferenceControl.ARQC, cdol))).toBe('80AE800006000000001000' + '00');
    expect(generateAc(ReferenceControl.TC | ReferenceControl.CDA_SIGNATURE, cdol).p1).toBe(0x50);
    expect(generateAc(ReferenceControl.AAC, cdol).p1).toBe(0x00);
    for (const bad of [0xc0, 0x01, 0x20, 256]) expect(() => generateAc(bad, cdol)).toThrow(ApduError);
    expect(() => generateAc(ReferenceControl.ARQC, new Uint8Array(0))).toThrow(ApduError);
  });

  it('GET RESPONSE', () => {
    expect(hex(getResponse(0x1c))).toBe('00C000001C');
    expect(hex(getResponse(0))).toBe('00C0000000');
    expect(() => getResponse(257)).toThrow(ApduError);
  });
});
