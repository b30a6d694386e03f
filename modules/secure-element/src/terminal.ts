import { encodeCommandApdu, generateAc, getProcessingOptions, readRecord, selectByName } from '@amulet/apdu';
import { fromHex, toHex } from '@amulet/bytes';
import { buildDolData, decodeTlv, findTag, parseDol, splitDolData, type TlvNode } from '@amulet/tlv';
import { cryptogramData, PPSE_NAME } from './payment-applet.ts';
import { SecureElementError } from './secure-element-error.ts';
import type { SupportedCvn } from './state.ts';

/**
 * A minimal contactless terminal (EMV Book A/B, kernels 2 and 3 reduced to the exchange): SELECT
 * PPSE, SELECT the chosen AID, GET PROCESSING OPTIONS, READ RECORD, and GENERATE AC for M/Chip.
 * It returns what an issuer needs to verify the cryptogram. Used by tests, the conformance
 * suite and the benchmark.
 */
export interface TapOptions {
  /** Minor units, at most 12 digits. */
  readonly amount: number;
  /** 9F37, 4 bytes. */
  readonly unpredictableNumber: Uint8Array;
  /** YYMMDD (9A). */
  readonly date?: string;
  readonly currency?: string;
  readonly country?: string;
  /** The ADF name to pick; default the first PPSE entry (the default card). */
  readonly aid?: string;
}

export interface TapResult {
  readonly aid: string;
  readonly profile: 'qvsdc' | 'mchip';
  readonly cvn: SupportedCvn;
  readonly pan: string;
  readonly psn: string;
  readonly atc: Uint8Array;
  readonly cryptogram: Uint8Array;
  readonly cid: number;
  readonly iad: Uint8Array;
  /** The bytes the cryptogram covers, rebuilt from what the terminal sent and received. */
  readonly data: Uint8Array;
  /** 9F6C for qVSDC. */
  readonly ctq?: Uint8Array;
  readonly exchanges: readonly { readonly command: Uint8Array; readonly response: Uint8Array }[];
}

export class TapError extends SecureElementError {}

type Transmit = (apdu: Uint8Array) => Promise<Uint8Array> | Uint8Array;

function amountBcd(amount: number): Uint8Array {
  if (!Number.isSafeInteger(amount) || amount < 0 || amount > 999_999_999_999)
    throw new TapError('ERR_TAP_AMOUNT', 'amount must be 0 to 12 digits');
  return fromHex(String(amount).padStart(12, '0'));
}

export async function tap(transmit: Transmit, options: TapOptions): Promise<TapResult> {
  const exchanges: { command: Uint8Array; response: Uint8Array }[] = [];
  const send = async (command: Uint8Array): Promise<TlvNode[]> => {
    const response = await transmit(command);
    exchanges.push({ command, response });
    const sw = toHex(response.subarray(response.length - 2));
    if (sw !== '9000') throw new TapError('ERR_TAP_STATUS', `card answered ${sw}`, { path: [sw] });
    return decodeTlv(response.subarray(0, response.length - 2));
  };
  const ppse = await send(encodeCommandApdu(selectByName(PPSE_NAME)));
  const entries = findTag(ppse, 'BF0C')?.children?.filter((n) => n.tag === '61') ?? [];
  const aids = entries.map((e) => toHex(findTag(e.children ?? [], '4F')?.value ?? new Uint8Array(0)));
  const aid = options.aid ?? aids[0];
  if (aid === undefined) throw new TapError('ERR_TAP_NO_APP', 'the PPSE lists no application');
  const profile = aid.startsWith('A000000004') ? 'mchip' : 'qvsdc';
  const fci = await send(encodeCommandApdu(selectByName(fromHex(aid))));
  const values = new Map<string, Uint8Array>([
    ['9F66', fromHex('36004000')],
    ['9F02', amountBcd(options.amount)],
    ['9F03', new Uint8Array(6)],
    ['9F1A', fromHex(options.country ?? '0250')],
    ['95', new Uint8Array(5)],
    ['5F2A', fromHex(options.currency ?? '0978')],
    ['9A', fromHex(options.date ?? '261123')],
    ['9C', new Uint8Array([0x00])],
    ['9F37', options.unpredictableNumber],
    ['9F35', new Uint8Array([0x22])],
    ['9F34', fromHex('1F0302')],
  ]);
  const pdolValue = findTag(fci, '9F38')?.value;
  const pdol = pdolValue === undefined ? [] : parseDol(pdolValue);
  const pdolData = buildDolData(pdol, values);
  const gpo = await send(encodeCommandApdu(getProcessingOptions(pdolData)));
  if (profile === 'qvsdc') {
    const need = (tag: string): Uint8Array => {
      const value = findTag(gpo, tag)?.value;
      if (value === undefined)
        throw new TapError('ERR_TAP_MISSING', `GPO response lacks ${tag}`, { path: [tag] });
      return value;
    };
    const iad = need('9F10');
    const atc = need('9F36');
    const cvn: SupportedCvn = iad[0] === 0x1f ? 22 : 18;
    const track = toHex(need('57'));
    return {
      aid,
      profile,
      cvn,
      pan: track.slice(0, track.indexOf('D')),
      psn: toHex(need('5F34')),
      atc,
      cryptogram: need('9F26'),
      cid: need('9F27')[0] ?? 0,
      iad,
      data: cryptogramData(cvn, splitDolData(pdol, pdolData), need('82'), atc, iad),
      ctq: need('9F6C'),
      exchanges,
    };
  }
  const format1 = findTag(gpo, '80')?.value ?? new Uint8Array(0);
  const aip = format1.subarray(0, 2);
  const record = await send(encodeCommandApdu(readRecord(1, 1)));
  const cdol1 = findTag(record, '8C')?.value;
  const panValue = findTag(record, '5A')?.value;
  const psnValue = findTag(record, '5F34')?.value;
  if (cdol1 === undefined || panValue === undefined || psnValue === undefined)
    throw new TapError('ERR_TAP_MISSING', 'the record lacks 8C, 5A or 5F34');
  const cdol = parseDol(cdol1);
  const cdolData = buildDolData(cdol, values);
  const ac = await send(encodeCommandApdu(generateAc(0x80, cdolData)));
  const need = (tag: string): Uint8Array => {
    const value = findTag(ac, tag)?.value;
    if (value === undefined)
      throw new TapError('ERR_TAP_MISSING', `GENERATE AC lacks ${tag}`, { path: [tag] });
    return value;
  };
  const atc = need('9F36');
  const iad = need('9F10');
  return {
    aid,
    profile,
    cvn: 17,
    pan: toHex(panValue).replace(/F+$/, ''),
    psn: toHex(psnValue),
    atc,
    cryptogram: need('9F26'),
    cid: need('9F27')[0] ?? 0,
    iad,
    data: cryptogramData(17, splitDolData(cdol, cdolData), aip, atc, iad),
    exchanges,
  };
}
