import { createHash } from 'node:crypto';
import { fromHex } from '@amulet/bytes';
import { encodeTlv, type TlvNode } from '@amulet/tlv';
import type { TokenRecord } from './state.ts';

/** The issuer security domain's AID (GlobalPlatform Card Specification 2.3, Annex H: A000000151000000). */
export const ISD_AID = fromHex('A000000151000000');

/** Life cycle state bytes (GlobalPlatform Card Specification 11.1.1, tables 11-3 and 11-5). */
export const LifeCycle = { CARD_SECURED: 0x0f, APP_SELECTABLE: 0x07, APP_LOCKED: 0x87 } as const;

/** FCI of the ISD (GlobalPlatform Card Specification 11.9.3.1): 84 AID, A5 with 9F65 max command data. */
export function isdFci(): Uint8Array {
  return encodeTlv([
    {
      tag: '6F',
      children: [
        { tag: '84', value: ISD_AID },
        { tag: 'A5', children: [{ tag: '9F65', value: new Uint8Array([0xff]) }] },
      ],
    },
  ]);
}

/**
 * Card production life cycle data (GlobalPlatform Card Specification, GET DATA tag 9F7F): 42
 * bytes of fabricator, type, OS and dates. The IC serial number (bytes 13-16) is taken from a
 * hash of the device-unique key, so it is stable for one device and tells nothing of the key.
 */
export function cplc(deviceKey: Uint8Array): Uint8Array {
  const serial = createHash('sha256').update('amulet-cplc').update(deviceKey).digest().subarray(0, 4);
  const out = new Uint8Array(42);
  out.set(fromHex('4154'), 0); // IC fabricator: 'AT'
  out.set(fromHex('0001'), 2); // IC type
  out.set(fromHex('4D55'), 4); // operating system identifier: 'MU'
  out.set(fromHex('6327'), 6); // OS release date (YDDD: 2026, day 327)
  out.set(fromHex('0001'), 8); // OS release level
  out.set(fromHex('6327'), 10); // IC fabrication date
  out.set(serial, 12); // IC serial number
  // The remaining fields (batch, module, embedding, pre-personalization, personalization) are zero.
  return encodeTlv([{ tag: '9F7F', value: out }]);
}

/**
 * GET STATUS response data in the GlobalPlatform TLV format (P2 b2 = 1, Card Specification
 * 11.4.3.2): one E3 template per entry with 4F AID, 9F70 life cycle state, C5 privileges.
 */
export function statusEntries(kind: 'isd' | 'apps', tokens: readonly TokenRecord[]): Uint8Array {
  const entry = (aid: Uint8Array, state: number, privileges: number[]): TlvNode => ({
    tag: 'E3',
    children: [
      { tag: '4F', value: aid },
      { tag: '9F70', value: new Uint8Array([state]) },
      { tag: 'C5', value: new Uint8Array(privileges) },
    ],
  });
  if (kind === 'isd') return encodeTlv([entry(ISD_AID, LifeCycle.CARD_SECURED, [0x9e, 0xfe, 0x80])]);
  return encodeTlv(
    tokens.map((t) =>
      entry(
        fromHex(t.aid),
        t.status === 'suspended' ? LifeCycle.APP_LOCKED : LifeCycle.APP_SELECTABLE,
        [0, 0, 0],
      ),
    ),
  );
}
