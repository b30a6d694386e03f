import { fromHex, toHex } from '@amulet/bytes';
import { decodeTlv, findTag } from '@amulet/tlv';
import { describe, expect, it } from 'vitest';
import { loadSandboxCards, SecureElement } from '../src/index.ts';
import { DEVICE_KEY, rig, seededRng } from './fixtures.ts';

const SELECT_ISD = fromHex('00A4040008A00000015100000000');
const CPLC = fromHex('80CA9F7F00');
const STATUS_APPS = fromHex('80F24002024F0000');
const STATUS_ISD = fromHex('80F28002024F0000');

const body = (r: Uint8Array) => r.subarray(0, -2);
const sw = (r: Uint8Array) => toHex(r.subarray(-2));

describe('card manager basics', () => {
  it('SELECT ISD answers its FCI', () => {
    const { se } = rig();
    const response = se.transmit(SELECT_ISD);
    expect(sw(response)).toBe('9000');
    expect(toHex(findTag(decodeTlv(body(response)), '84')?.value ?? new Uint8Array())).toBe(
      'A000000151000000',
    );
  });

  it('GET DATA CPLC gives 42 bytes, the serial stable per device and different across devices', () => {
    const { se } = rig();
    se.transmit(SELECT_ISD);
    const response = se.transmit(CPLC);
    expect(sw(response)).toBe('9000');
    const value = findTag(decodeTlv(body(response)), '9F7F')?.value ?? new Uint8Array();
    expect(value.length).toBe(42);
    const other = DEVICE_KEY.slice();
    other[31]! ^= 1;
    const se2 = SecureElement.open({ deviceKey: other, rng: seededRng('x'), clock: () => 0 });
    se2.transmit(SELECT_ISD);
    const value2 = findTag(decodeTlv(body(se2.transmit(CPLC))), '9F7F')?.value ?? new Uint8Array();
    expect(toHex(value2.subarray(12, 16))).not.toBe(toHex(value.subarray(12, 16)));
    expect(toHex(value2.subarray(0, 12))).toBe(toHex(value.subarray(0, 12)));
    expect(toHex(se.transmit(fromHex('80CA006600')))).toBe('6A88');
  });

  it('GET STATUS lists the ISD, and the applets with their life cycle (locked when suspended)', () => {
    const { se } = rig();
    se.transmit(SELECT_ISD);
    expect(toHex(se.transmit(STATUS_APPS))).toBe('6A88');
    loadSandboxCards(se);
    se.setTokenStatus('sandbox-mastercard-cvn17', 'suspended');
    const isd = decodeTlv(body(se.transmit(STATUS_ISD)));
    expect(toHex(findTag(isd, '9F70')?.value ?? new Uint8Array())).toBe('0F');
    const apps = decodeTlv(body(se.transmit(STATUS_APPS)));
    const rows = apps.map((e) => [
      toHex(findTag(e.children ?? [], '4F')?.value ?? new Uint8Array()),
      toHex(findTag(e.children ?? [], '9F70')?.value ?? new Uint8Array()),
    ]);
    expect(rows).toEqual([
      ['A0000000031010', '07'],
      ['A0000000041010', '87'],
      ['A000000003101001', '07'],
    ]);
  });

  it('GET DATA and GET STATUS need the ISD selected', () => {
    const { se } = rig();
    loadSandboxCards(se);
    se.transmit(fromHex('00A404000E325041592E5359532E444446303100'));
    expect(toHex(se.transmit(CPLC))).toBe('6985');
    expect(toHex(se.transmit(STATUS_APPS))).toBe('6985');
  });
});
