import { ApduError } from './apdu-error.ts';
import type { CommandApdu } from './command-apdu.ts';

/** Le 256 (byte 00): "as many bytes as you have", how EMV sends every case 2 and 4 command. */
const ANY = 256;

/** P1 of GENERATE AC (EMV Book 3 6.5.5.2): the cryptogram type requested, plus the CDA bit. */
export const ReferenceControl = { AAC: 0x00, TC: 0x40, ARQC: 0x80, CDA_SIGNATURE: 0x10 } as const;

/** SELECT by DF name (ISO/IEC 7816-4 7.1.1, EMV Book 1 11.3): 00 A4 04 00 Lc AID 00. */
export function selectByName(aid: Uint8Array, options: { next?: boolean } = {}): CommandApdu {
  if (!(aid instanceof Uint8Array) || aid.length < 1 || aid.length > 16) {
    throw new ApduError('ERR_APDU_PARAMETER', 'a DF name (AID) must be 1 to 16 bytes');
  }
  // P2 00: first or only occurrence; 02: next occurrence (partial name selection).
  return {
    cla: 0x00,
    ins: 0xa4,
    p1: 0x04,
    p2: options.next === true ? 0x02 : 0x00,
    data: aid.slice(),
    le: ANY,
  };
}

/** READ RECORD (EMV Book 3 6.5.11): 00 B2 record (SFI << 3 | 4) 00. */
export function readRecord(record: number, sfi: number): CommandApdu {
  if (!Number.isInteger(record) || record < 1 || record > 255) {
    throw new ApduError('ERR_APDU_PARAMETER', 'record number must be 1 to 255');
  }
  if (!Number.isInteger(sfi) || sfi < 1 || sfi > 30)
    throw new ApduError('ERR_APDU_PARAMETER', 'SFI must be 1 to 30');
  return { cla: 0x00, ins: 0xb2, p1: record, p2: (sfi << 3) | 0x04, le: ANY };
}

/** GET DATA (EMV Book 3 6.5.7): 80 CA with the 1- or 2-byte tag in P1-P2, e.g. '9F36' for the ATC. */
export function getData(tag: string): CommandApdu {
  if (typeof tag !== 'string' || !/^(?:[0-9A-Fa-f]{2}){1,2}$/.test(tag)) {
    throw new ApduError('ERR_APDU_PARAMETER', 'GET DATA tag must be 1 or 2 bytes of hex');
  }
  const value = Number.parseInt(tag, 16);
  return { cla: 0x80, ins: 0xca, p1: value >> 8, p2: value & 0xff, le: ANY };
}

/** GET PROCESSING OPTIONS (EMV Book 3 6.5.8): 80 A8 00 00 with the PDOL data in template 83. */
export function getProcessingOptions(pdolData: Uint8Array = new Uint8Array(0)): CommandApdu {
  if (!(pdolData instanceof Uint8Array) || pdolData.length > 252) {
    throw new ApduError('ERR_APDU_PARAMETER', 'PDOL data must be at most 252 bytes');
  }
  // EMV Book 3 Annex B2: the length is one byte below 128, else 81 and one byte.
  const length = pdolData.length < 0x80 ? [pdolData.length] : [0x81, pdolData.length];
  const data = new Uint8Array(1 + length.length + pdolData.length);
  data.set([0x83, ...length], 0);
  data.set(pdolData, 1 + length.length);
  return { cla: 0x80, ins: 0xa8, p1: 0x00, p2: 0x00, data, le: ANY };
}

/**
 * GENERATE APPLICATION CRYPTOGRAM (EMV Book 3 6.5.5): 80 AE P1 00 with the CDOL1 or CDOL2 data.
 * `referenceControl` is a `ReferenceControl` type, optionally with `CDA_SIGNATURE` added.
 */
export function generateAc(referenceControl: number, cdolData: Uint8Array): CommandApdu {
  // Table 12: b8-b7 select AAC (00), TC (01) or ARQC (10), 11 is RFU; b5 asks for CDA; the rest RFU.
  const valid =
    Number.isInteger(referenceControl) &&
    referenceControl >= 0 &&
    referenceControl <= 0xff &&
    (referenceControl & 0x2f) === 0 &&
    (referenceControl & 0xc0) !== 0xc0;
  if (!valid)
    throw new ApduError('ERR_APDU_PARAMETER', 'GENERATE AC reference control must be AAC, TC or ARQC');
  if (!(cdolData instanceof Uint8Array) || cdolData.length < 1 || cdolData.length > 255) {
    throw new ApduError('ERR_APDU_PARAMETER', 'CDOL data must be 1 to 255 bytes');
  }
  return { cla: 0x80, ins: 0xae, p1: referenceControl, p2: 0x00, data: cdolData.slice(), le: ANY };
}

/** GET RESPONSE (ISO/IEC 7816-4 7.6.1): 00 C0 00 00 Le, after a 61XX status. */
export function getResponse(le: number): CommandApdu {
  if (!Number.isInteger(le) || le < 0 || le > 256)
    throw new ApduError('ERR_APDU_PARAMETER', 'Le must be 0 to 256');
  return { cla: 0x00, ins: 0xc0, p1: 0x00, p2: 0x00, le: le === 0 ? ANY : le };
}
