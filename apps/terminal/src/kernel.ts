import { encodeCommandApdu, generateAc, getProcessingOptions, readRecord, selectByName } from '@amulet/apdu';
import { AmuletError, fromHex, toHex } from '@amulet/bytes';
import type { SeTransport } from '@amulet/secure-element';
import { buildDolData, type DolEntry, decodeTlv, findTag, parseDol, type TlvNode } from '@amulet/tlv';
import type { KernelConfig, SupportedApplication } from './kernel-config.ts';
import { type Outcome, outcome } from './outcome.ts';

/** What the kernel needs for one transaction; the unpredictable number and date come from outside. */
export interface KernelTransaction {
  /** Amount authorised, minor units, 0 to 12 digits. */
  readonly amount: number;
  /** 9F37, 4 bytes, from the terminal's random source. */
  readonly unpredictableNumber: Uint8Array;
  /** 9A, YYMMDD. */
  readonly date: string;
  /** 9C, transaction type: '00' purchase. */
  readonly type?: string;
}

/** What the card gave for an online authorization, and the terminal data its cryptogram covers. */
export interface CardData {
  readonly aid: string;
  readonly kernel: 'qvsdc' | 'mchip';
  /** The PAN on the card: for a wearable, the DPAN. */
  readonly pan: string;
  /** YYMM. */
  readonly expiry: string;
  readonly psn: string;
  readonly aip: Uint8Array;
  readonly atc: Uint8Array;
  readonly cryptogram: Uint8Array;
  /** 9F27, cryptogram information data. */
  readonly cid: number;
  readonly iad: Uint8Array;
  /** 9F6C, qVSDC only. */
  readonly ctq?: Uint8Array;
  /** The wearer was verified on the device (consumer device CVM). */
  readonly cdcvm: boolean;
  /** 9F34 as the terminal reports it after the transaction. */
  readonly cvmResults: Uint8Array;
  /** Every terminal data object as sent to the card (PDOL or CDOL1 data), by tag. */
  readonly terminalData: ReadonlyMap<string, Uint8Array>;
}

export type CardRead =
  | { readonly kind: 'online'; readonly card: CardData; readonly exchanges: readonly Exchange[] }
  | { readonly kind: 'outcome'; readonly outcome: Outcome; readonly exchanges: readonly Exchange[] };

export interface Exchange {
  readonly command: Uint8Array;
  readonly response: Uint8Array;
}

export class KernelError extends AmuletError {}

const PPSE = new TextEncoder().encode('2PAY.SYS.DDF01');
/** 9F34 CVM results (EMV Book 3 C3): '1F' no CVM required, '01' as Kernel 2 reports CDCVM, '3F' none performed. */
const CVM_NONE_REQUIRED = fromHex('1F0002');
const CVM_CDCVM = fromHex('010002');
const CVM_NOT_PERFORMED = fromHex('3F0000');

/** A card's answer with a status word other than 9000. */
class CardStatus extends Error {
  constructor(readonly sw: string) {
    super(`card answered ${sw}`);
  }
}

/**
 * The contactless kernel (EMV Book A, Book B entry point, Book C-2 and C-3 reduced to online-only
 * processing): pre-processing against the limits, SELECT PPSE, combination selection by
 * priority, final SELECT, GET PROCESSING OPTIONS with the PDOL data, READ RECORD by the AFL,
 * GENERATE AC for M/Chip, then the CVM decision. It returns the card data for the online
 * request, or the outcome when the transaction ends at the terminal.
 */
export async function readCard(
  card: SeTransport,
  transaction: KernelTransaction,
  config: KernelConfig,
): Promise<CardRead> {
  const exchanges: Exchange[] = [];
  const end = (o: Outcome): CardRead => ({ kind: 'outcome', outcome: o, exchanges });
  if (
    !Number.isSafeInteger(transaction.amount) ||
    transaction.amount < 0 ||
    transaction.amount > 999_999_999_999
  )
    throw new KernelError('ERR_KERNEL_AMOUNT', 'the amount must be 0 to 12 digits');
  // Book A 5.2.2, pre-processing: at or above the contactless transaction limit, contactless is not allowed.
  if (transaction.amount >= config.contactlessTransactionLimit)
    return end(outcome('try-another-interface', 'contactless-limit', 'Insert or swipe card'));
  const cvmRequired = transaction.amount >= config.cvmRequiredLimit;

  const send = async (command: Uint8Array): Promise<TlvNode[]> => {
    const response = await card.transmit(command);
    exchanges.push({ command, response });
    if (response.length < 2) throw new CardStatus('----');
    const sw = toHex(response.subarray(response.length - 2));
    if (sw !== '9000') throw new CardStatus(sw);
    return decodeTlv(response.subarray(0, response.length - 2));
  };

  try {
    const ppse = await send(encodeCommandApdu(selectByName(PPSE)));
    const candidates = combinations(ppse, config.applications);
    if (candidates.length === 0)
      return end(outcome('end-application', 'no-application', 'Card not supported'));
    // Book B 3.3.3: a candidate whose final SELECT fails is removed, and the next one tried.
    for (const candidate of candidates) {
      let fci: TlvNode[];
      try {
        fci = await send(encodeCommandApdu(selectByName(fromHex(candidate.aid))));
      } catch (error) {
        if (error instanceof CardStatus) continue;
        throw error;
      }
      const terminalData = terminalValues(config, transaction, cvmRequired);
      return candidate.kernel === 'qvsdc'
        ? await qvsdc(send, fci, candidate.aid, terminalData, config, cvmRequired, exchanges)
        : await mchip(send, candidate.aid, terminalData, config, cvmRequired, exchanges);
    }
    return end(outcome('end-application', 'no-application', 'Card not supported'));
  } catch (error) {
    if (error instanceof CardStatus) return end(statusOutcome(error.sw));
    if (error instanceof AmuletError) return end(outcome('end-application', 'card-data', 'Card read error'));
    throw error;
  }
}

/** What a status word at GPO or GENERATE AC means to the cashier (ISO/IEC 7816-4 5.1.3). */
function statusOutcome(sw: string): Outcome {
  if (sw === '6985') return outcome('declined', 'card-not-usable', 'Card declined: not usable');
  if (sw === '6983') return outcome('see-phone', 'device-locked', 'See phone: unlock the wearable');
  return outcome('end-application', 'card-error', 'Card read error: tap again');
}

interface Candidate {
  readonly aid: string;
  readonly kernel: 'qvsdc' | 'mchip';
  readonly priority: number;
  readonly order: number;
}

/**
 * Book B 3.3.2, combination selection: every PPSE directory entry (61) whose ADF name (4F)
 * matches a supported AID (equal, or starting with it), ordered by the application priority
 * indicator (87, b4-b1; 1 is highest, 0 or absent means no priority and comes last), the PPSE
 * order breaking ties.
 */
export function combinations(
  ppse: readonly TlvNode[],
  supported: readonly SupportedApplication[],
): Candidate[] {
  const directory = findTag(ppse, 'BF0C')?.children ?? [];
  const out: Candidate[] = [];
  directory.forEach((entry, order) => {
    if (entry.tag !== '61') return;
    const name = findTag(entry.children ?? [], '4F')?.value;
    if (name === undefined) return;
    const aid = toHex(name);
    const application = supported.find((s) => aid.startsWith(s.aid.toUpperCase()));
    if (application === undefined) return;
    const indicator = (findTag(entry.children ?? [], '87')?.value?.[0] ?? 0) & 0x0f;
    out.push({ aid, kernel: application.kernel, priority: indicator === 0 ? 16 : indicator, order });
  });
  return out.sort((a, b) => a.priority - b.priority || a.order - b.order);
}

function bcd(value: number, bytes: number): Uint8Array {
  return fromHex(String(value).padStart(bytes * 2, '0'));
}

/** The terminal data objects a PDOL or CDOL1 may ask for (EMV Book 3 Annex A). */
function terminalValues(
  config: KernelConfig,
  transaction: KernelTransaction,
  cvmRequired: boolean,
): Map<string, Uint8Array> {
  // TTQ (Visa VCPS D.1; Book C-3 A.2): byte 1 '20' qVSDC supported; byte 2 b8 online cryptogram
  // required (this terminal is online only), b7 CVM required; byte 3 b7 consumer device CVM supported.
  const ttq = new Uint8Array([0x20, 0x80 | (cvmRequired ? 0x40 : 0), 0x40, 0x00]);
  return new Map<string, Uint8Array>([
    ['9F66', ttq],
    ['9F02', bcd(transaction.amount, 6)],
    ['9F03', new Uint8Array(6)],
    ['9F1A', fromHex(config.country)],
    ['95', new Uint8Array(5)],
    ['5F2A', fromHex(config.currency)],
    ['9A', fromHex(transaction.date)],
    ['9C', fromHex(transaction.type ?? '00')],
    ['9F37', transaction.unpredictableNumber],
    ['9F35', fromHex(config.terminalType)],
    ['9F33', fromHex(config.capabilities)],
    ['9F34', cvmRequired ? CVM_NOT_PERFORMED : CVM_NONE_REQUIRED],
  ]);
}

type Send = (command: Uint8Array) => Promise<TlvNode[]>;

/** The DOL data as sent, cut back per tag, so field 55 carries exactly what the card covered. */
function sentValues(dol: readonly DolEntry[], data: Uint8Array, into: Map<string, Uint8Array>): void {
  let offset = 0;
  for (const entry of dol) {
    into.set(entry.tag.toUpperCase(), data.slice(offset, offset + entry.length));
    offset += entry.length;
  }
}

/** READ RECORD of every record the AFL names (EMV Book 3 10.2): 4 bytes per entry, SFI in b8-b4. */
async function readRecords(send: Send, afl: Uint8Array): Promise<TlvNode[]> {
  const out: TlvNode[] = [];
  if (afl.length % 4 !== 0 || afl.length > 40)
    throw new KernelError('ERR_KERNEL_AFL', 'the AFL is malformed');
  for (let i = 0; i < afl.length; i += 4) {
    const sfi = afl[i]! >> 3;
    for (let record = afl[i + 1]!; record <= afl[i + 2]! && record > 0; record++) {
      const nodes = await send(encodeCommandApdu(readRecord(record, sfi)));
      out.push(...(findTag(nodes, '70')?.children ?? nodes));
    }
  }
  return out;
}

function need(nodes: readonly TlvNode[], tag: string, step: string): Uint8Array {
  const value = findTag(nodes, tag)?.value;
  if (value === undefined)
    throw new KernelError('ERR_KERNEL_MISSING', `${step} lacks ${tag}`, { path: [tag] });
  return value;
}

/** PAN and expiry (YYMM) from track 2 equivalent data (57), or from 5A and 5F24. */
function cardIdentity(nodes: readonly TlvNode[]): { pan: string; expiry: string } {
  const track = findTag(nodes, '57')?.value;
  if (track !== undefined) {
    const digits = toHex(track);
    const separator = digits.indexOf('D');
    if (separator >= 12)
      return { pan: digits.slice(0, separator), expiry: digits.slice(separator + 1, separator + 5) };
  }
  const pan = toHex(need(nodes, '5A', 'the card data')).replace(/F+$/, '');
  return { pan, expiry: toHex(need(nodes, '5F24', 'the card data')).slice(0, 4) };
}

/** CVR byte 4 b8, consumer device CVM performed, at its place in each IAD layout (docs/secure-element.md). */
export function cdcvmFromIad(iad: Uint8Array): boolean {
  // Visa IAD format 0/1/3 (CVN 10, 18): 06 DKI CVN 03 CVR2 CVR3 CVR4; format 2 (CVN 22): 1F CVN DKI CVR...
  if (iad[0] === 0x06) return ((iad[6] ?? 0) & 0x80) !== 0;
  if (iad[0] === 0x1f) return ((iad[5] ?? 0) & 0x80) !== 0;
  // M/Chip (CVN 16, 17): DKI CVN CVR(6): CVR byte 4 is IAD byte 6.
  return ((iad[5] ?? 0) & 0x80) !== 0;
}

function decide(
  data: Omit<CardData, 'cvmResults'>,
  config: KernelConfig,
  cvmRequired: boolean,
  exchanges: Exchange[],
): CardRead {
  // EMV Book 3 C5: CID b8-b7 '00' is an AAC, the card declined offline.
  if ((data.cid & 0xc0) === 0x00)
    return {
      kind: 'outcome',
      outcome: outcome('declined', 'offline-declined', 'Declined by card'),
      exchanges,
    };
  if (cvmRequired && !data.cdcvm) {
    const o =
      config.noCdcvmAboveLimit === 'see-phone'
        ? outcome('see-phone', 'cvm-required', 'See phone: verify on your device, then tap again')
        : outcome('declined', 'cvm-required', 'Declined: cardholder verification required');
    return { kind: 'outcome', outcome: o, exchanges };
  }
  const cvmResults = data.cdcvm ? CVM_CDCVM : cvmRequired ? CVM_NOT_PERFORMED : CVM_NONE_REQUIRED;
  return { kind: 'online', card: { ...data, cvmResults }, exchanges };
}

/** qVSDC (Book C-3): the cryptogram comes back in the GPO response, format 2 (77). */
async function qvsdc(
  send: Send,
  fci: readonly TlvNode[],
  aid: string,
  terminal: Map<string, Uint8Array>,
  config: KernelConfig,
  cvmRequired: boolean,
  exchanges: Exchange[],
): Promise<CardRead> {
  const pdolValue = findTag(fci, '9F38')?.value;
  const pdol = pdolValue === undefined ? [] : parseDol(pdolValue);
  const pdolData = buildDolData(pdol, terminal);
  const sent = new Map<string, Uint8Array>();
  sentValues(pdol, pdolData, sent);
  const gpo = await send(encodeCommandApdu(getProcessingOptions(pdolData)));
  let nodes: TlvNode[] = [...gpo, ...(findTag(gpo, '77')?.children ?? [])];
  if (findTag(nodes, '57') === undefined && findTag(nodes, '5A') === undefined) {
    const afl = findTag(nodes, '94')?.value;
    if (afl !== undefined) nodes = [...nodes, ...(await readRecords(send, afl))];
  }
  const ctq = findTag(nodes, '9F6C')?.value;
  const iad = need(nodes, '9F10', 'GPO');
  const { pan, expiry } = cardIdentity(nodes);
  for (const [tag, value] of terminal) if (!sent.has(tag)) sent.set(tag, value);
  // Visa VCPS: CTQ byte 2 b8 says the consumer device CVM was performed; the CVR says it too.
  const cdcvm = ctq !== undefined ? (ctq[1]! & 0x80) !== 0 : cdcvmFromIad(iad);
  return decide(
    {
      aid,
      kernel: 'qvsdc',
      pan,
      expiry,
      psn: toHex(findTag(nodes, '5F34')?.value ?? new Uint8Array([0])),
      aip: need(nodes, '82', 'GPO'),
      atc: need(nodes, '9F36', 'GPO'),
      cryptogram: need(nodes, '9F26', 'GPO'),
      cid: need(nodes, '9F27', 'GPO')[0] ?? 0,
      iad,
      ...(ctq === undefined ? {} : { ctq }),
      cdcvm,
      terminalData: sent,
    },
    config,
    cvmRequired,
    exchanges,
  );
}

/** M/Chip (Book C-2): GPO gives AIP and AFL (format 1, 80), records give CDOL1, GENERATE AC the ARQC. */
async function mchip(
  send: Send,
  aid: string,
  terminal: Map<string, Uint8Array>,
  config: KernelConfig,
  cvmRequired: boolean,
  exchanges: Exchange[],
): Promise<CardRead> {
  const gpo = await send(encodeCommandApdu(getProcessingOptions(new Uint8Array(0))));
  const format1 = findTag(gpo, '80')?.value;
  const aip =
    format1 !== undefined ? format1.subarray(0, 2) : need(findTag(gpo, '77')?.children ?? [], '82', 'GPO');
  const afl =
    format1 !== undefined ? format1.subarray(2) : need(findTag(gpo, '77')?.children ?? [], '94', 'GPO');
  const records = await readRecords(send, afl);
  const cdol = parseDol(need(records, '8C', 'the records'));
  const cdolData = buildDolData(cdol, terminal);
  const sent = new Map<string, Uint8Array>();
  sentValues(cdol, cdolData, sent);
  // EMV Book 3 6.5.5: reference control b8-b7 '10' asks for an ARQC.
  const ac = await send(encodeCommandApdu(generateAc(0x80, cdolData)));
  const nodes = [...ac, ...(findTag(ac, '77')?.children ?? [])];
  for (const [tag, value] of terminal) if (!sent.has(tag)) sent.set(tag, value);
  const iad = need(nodes, '9F10', 'GENERATE AC');
  const { pan, expiry } = cardIdentity(records);
  return decide(
    {
      aid,
      kernel: 'mchip',
      pan,
      expiry,
      psn: toHex(findTag(records, '5F34')?.value ?? new Uint8Array([0])),
      aip: aip.slice(),
      atc: need(nodes, '9F36', 'GENERATE AC'),
      cryptogram: need(nodes, '9F26', 'GENERATE AC'),
      cid: need(nodes, '9F27', 'GENERATE AC')[0] ?? 0,
      iad,
      cdcvm: cdcvmFromIad(iad),
      terminalData: sent,
    },
    config,
    cvmRequired,
    exchanges,
  );
}
