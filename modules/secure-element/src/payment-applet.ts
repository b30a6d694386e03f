import { concat, fromHex } from '@amulet/bytes';
import {
  atcDiversifier,
  cryptogramMac,
  deriveCommonSessionKey,
  findCryptogramVersion,
  mastercardDiversifier,
} from '@amulet/emv';
import { type DolEntry, encodeDol, encodeTlv, type TlvNode } from '@amulet/tlv';
import type { SupportedCvn, TokenRecord } from './state.ts';

/**
 * The data objects of the two payment applet profiles and the bytes their cryptograms cover.
 * Both are "-like": the layout follows Visa VCPS/VIS (qVSDC) and M/Chip, but the positions of
 * the CDCVM bits in the CVR are Amulet's and documented in docs/secure-element.md.
 */

/** qVSDC PDOL (Visa VCPS, EMV Book C-3 5.2): what the terminal sends in GET PROCESSING OPTIONS. */
export const qvsdcPdol: readonly DolEntry[] = [
  { tag: '9F66', length: 4 }, // terminal transaction qualifiers
  { tag: '9F02', length: 6 }, // amount, authorised
  { tag: '9F03', length: 6 }, // amount, other
  { tag: '9F1A', length: 2 }, // terminal country code
  { tag: '95', length: 5 }, // terminal verification results
  { tag: '5F2A', length: 2 }, // transaction currency code
  { tag: '9A', length: 3 }, // transaction date
  { tag: '9C', length: 1 }, // transaction type
  { tag: '9F37', length: 4 }, // unpredictable number
];

/** M/Chip CDOL1 (EMV Book 3 5.4; carried in record tag 8C). */
export const mchipCdol1: readonly DolEntry[] = [
  { tag: '9F02', length: 6 },
  { tag: '9F03', length: 6 },
  { tag: '9F1A', length: 2 },
  { tag: '95', length: 5 },
  { tag: '5F2A', length: 2 },
  { tag: '9A', length: 3 },
  { tag: '9C', length: 1 },
  { tag: '9F37', length: 4 },
  { tag: '9F35', length: 1 }, // terminal type
  { tag: '9F34', length: 3 }, // CVM results
];

/** AIP (EMV Book 3 C1): byte 2 b8 set, the contactless EMV mode of both kernels; no ODA. */
export const AIP = fromHex('0080');
/** AFL (EMV Book 3 10.2): SFI 1, records 1 to 1, none for offline data authentication. */
export const AFL = fromHex('08010100');

/** CTQ (Visa VCPS D.1) byte 2 b8: consumer device CVM performed. */
export const CTQ_CDCVM = 0x80;
/** Visa CVR byte 4 b8 and M/Chip CVR byte 4 b8 (Amulet's position): CDCVM performed. */
export const CVR_CDCVM = 0x80;

export type AcType = 'aac' | 'tc' | 'arqc';
const acBits: Record<AcType, number> = { aac: 0b00, tc: 0b01, arqc: 0b10 };
/** Cryptogram information data (EMV Book 3 C5): b8-b7 the cryptogram type. */
export const cidFor = (type: AcType): number => acBits[type] << 6;

export function twoBytes(n: number): Uint8Array {
  return new Uint8Array([(n >> 8) & 0xff, n & 0xff]);
}

/** Track 2 equivalent data (EMV Book 3 table 33): PAN 'D' YYMM service code, discretionary, 'F' pad. */
export function track2(token: TokenRecord): Uint8Array {
  let digits = `${token.pan}D${token.expiry.slice(0, 4)}201${'0'.repeat(5)}`;
  if (digits.length % 2 === 1) digits += 'F';
  return fromHex(digits);
}

function panBytes(pan: string): Uint8Array {
  return fromHex(pan.length % 2 === 1 ? `${pan}F` : pan);
}

/** FCI of a payment applet (EMV Book 1 11.3.4): DF name, label, priority, and the PDOL for qVSDC. */
export function applicationFci(token: TokenRecord, priority: number): Uint8Array {
  const proprietary: TlvNode[] = [
    { tag: '50', value: new TextEncoder().encode(token.label) },
    { tag: '87', value: new Uint8Array([priority]) },
  ];
  if (token.profile === 'qvsdc') proprietary.push({ tag: '9F38', value: encodeDol(qvsdcPdol) });
  return encodeTlv([
    {
      tag: '6F',
      children: [
        { tag: '84', value: fromHex(token.aid) },
        { tag: 'A5', children: proprietary },
      ],
    },
  ]);
}

export const PPSE_NAME = new TextEncoder().encode('2PAY.SYS.DDF01');

/** FCI of the PPSE (EMV Book B 3.3): one directory entry (61) per applet, in priority order. */
export function ppseFci(tokens: readonly TokenRecord[]): Uint8Array {
  const entries: TlvNode[] = tokens.map((token, i) => ({
    tag: '61',
    children: [
      { tag: '4F', value: fromHex(token.aid) },
      { tag: '50', value: new TextEncoder().encode(token.label) },
      { tag: '87', value: new Uint8Array([Math.min(i + 1, 15)]) },
    ],
  }));
  return encodeTlv([
    {
      tag: '6F',
      children: [
        { tag: '84', value: PPSE_NAME },
        { tag: 'A5', children: [{ tag: 'BF0C', children: entries }] },
      ],
    },
  ]);
}

/** Record 1 of SFI 1: the card data a kernel reads (EMV Book 3 10.2), CDOL1 for M/Chip. */
export function applicationRecord(token: TokenRecord): Uint8Array {
  const nodes: TlvNode[] = [
    { tag: '57', value: track2(token) },
    { tag: '5A', value: panBytes(token.pan) },
    { tag: '5F24', value: fromHex(token.expiry) },
    { tag: '5F34', value: fromHex(token.psn) },
  ];
  if (token.profile === 'mchip') nodes.push({ tag: '8C', value: encodeDol(mchipCdol1) });
  return encodeTlv([{ tag: '70', children: nodes }]);
}

/**
 * Issuer application data.
 * - Visa CVN 18 (VIS 1.6 IAD format 0/1/3): 06 || DKI || CVN || CVR (03 || 3 bytes).
 * - Visa CVN 22 (IAD format 2): 1F || CVN || DKI || CVR (5 bytes) || IDD (24 bytes of zeros).
 * - M/Chip CVN 17: DKI || CVN || CVR (6 bytes) || DAC/IDN (2) || counters (8).
 */
export function issuerApplicationData(token: TokenRecord, cdcvm: boolean, type: AcType): Uint8Array {
  const dki = token.keyDerivationIndex & 0xff;
  const cdcvmBit = cdcvm ? CVR_CDCVM : 0;
  if (token.cvn === 18) {
    // CVR byte 2 b6-b5: type of the first GENERATE AC (VIS 1.6 A.10).
    return new Uint8Array([0x06, dki, 0x12, 0x03, acBits[type] << 4, 0x00, cdcvmBit]);
  }
  if (token.cvn === 22) {
    const out = new Uint8Array(32);
    out.set([0x1f, 0x22, dki, acBits[type] << 4, 0x00, cdcvmBit, 0x00, 0x00], 0);
    return out;
  }
  const out = new Uint8Array(18);
  // M/Chip CVR byte 1 b6-b5: type of the first GENERATE AC.
  out.set([dki, 0x11, acBits[type] << 4, 0x00, 0x00, cdcvmBit, 0x00, 0x00], 0);
  return out;
}

/** The CVR inside an IAD, as the cryptogram versions cover it. */
export function cvrOf(cvn: SupportedCvn, iad: Uint8Array): Uint8Array {
  if (cvn === 17) return iad.slice(2, 8);
  return iad;
}

/** The terminal data every supported CVN covers, in order (EMV Book 2 8.1.1, recommended minimum set). */
export const coveredTerminalTags = ['9F02', '9F03', '9F1A', '95', '5F2A', '9A', '9C', '9F37'] as const;
const coveredLengths = [6, 6, 2, 5, 2, 3, 1, 4] as const;

/**
 * The bytes a cryptogram covers: 9F02 9F03 9F1A 95 5F2A 9A 9C 9F37 (29 bytes, as the terminal
 * sent them in the PDOL or CDOL1 data) || AIP || ATC || then, Visa CVN 18 and 22: the whole IAD;
 * M/Chip CVN 17: the CVR (6 bytes). A value the terminal did not send counts as zeros.
 */
export function cryptogramData(
  cvn: SupportedCvn,
  terminal: ReadonlyMap<string, Uint8Array>,
  aip: Uint8Array,
  atc: Uint8Array,
  iad: Uint8Array,
): Uint8Array {
  const fields = coveredTerminalTags.map((tag, i) => {
    const out = new Uint8Array(coveredLengths[i] ?? 0);
    const value = terminal.get(tag);
    if (value !== undefined) out.set(value.subarray(0, out.length));
    return out;
  });
  return concat(...fields, aip, atc, cvrOf(cvn, iad));
}

/** The application cryptogram, computed from the ICC master key held in the SE (EMV Book 2 A1.2, A1.3). */
export function cardCryptogram(
  token: TokenRecord,
  atc: Uint8Array,
  data: Uint8Array,
  unpredictableNumber: Uint8Array,
): Uint8Array {
  const version = findCryptogramVersion(token.cvn);
  const mk = fromHex(token.mkAc);
  const sessionKey =
    version.sessionKey === 'mastercard'
      ? deriveCommonSessionKey(mk, mastercardDiversifier(atc, unpredictableNumber), 'tdes')
      : deriveCommonSessionKey(mk, atcDiversifier(atc, version.algorithm), version.algorithm);
  return cryptogramMac(sessionKey, data, version.algorithm, version.padding);
}

/** The amount authorised (n 12, EMV Book 3 Annex A) in minor units, or undefined for bad BCD. */
export function bcdAmount(bytes: Uint8Array | undefined): number | undefined {
  if (bytes === undefined) return undefined;
  let value = 0;
  for (const byte of bytes) {
    const hi = byte >> 4;
    const lo = byte & 0x0f;
    if (hi > 9 || lo > 9) return undefined;
    value = value * 100 + hi * 10 + lo;
  }
  return value;
}
