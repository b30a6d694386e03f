import { fromHex } from '@amulet/bytes';
import {
  Field,
  interchangeSpec,
  Mti,
  PosConditionCode,
  PosEntryMode,
  ProcessingCode,
} from '@amulet/contracts';
import { createMessage, type FieldValue, type Iso8583Message } from '@amulet/iso8583';
import type { TlvNode } from '@amulet/tlv';
import type { CardData } from './kernel.ts';

/** Who the terminal is, as the acquirer knows it. */
export interface TerminalIdentity {
  /** Field 41, 8 characters. */
  readonly terminalId: string;
  /** Field 42, up to 15 characters. */
  readonly merchantId: string;
  /** Field 43, up to 40 characters: name (25), city (13), country (2). */
  readonly merchantNameLocation: string;
}

/**
 * Field 55 (ISO 8583:1987 with EMV data, EMV Book 4 A, the card networks' minimum ICC data):
 * cryptogram, CID, IAD, unpredictable number, ATC, TVR, date, type, amount, currency, AIP,
 * country, other amount, CVM results, capabilities, terminal type, DF name, PSN, and for qVSDC
 * the TTQ and CTQ. Every value the cryptogram covers is exactly as the card received it.
 */
export function iccData(card: CardData): TlvNode[] {
  const sent = (tag: string): Uint8Array => card.terminalData.get(tag) ?? new Uint8Array(0);
  const nodes: TlvNode[] = [
    { tag: '9F26', value: card.cryptogram },
    { tag: '9F27', value: new Uint8Array([card.cid]) },
    { tag: '9F10', value: card.iad },
    { tag: '9F37', value: sent('9F37') },
    { tag: '9F36', value: card.atc },
    { tag: '95', value: sent('95') },
    { tag: '9A', value: sent('9A') },
    { tag: '9C', value: sent('9C') },
    { tag: '9F02', value: sent('9F02') },
    { tag: '5F2A', value: sent('5F2A') },
    { tag: '82', value: card.aip },
    { tag: '9F1A', value: sent('9F1A') },
    { tag: '9F03', value: sent('9F03') },
    { tag: '9F34', value: card.cvmResults },
    { tag: '9F33', value: sent('9F33') },
    { tag: '9F35', value: sent('9F35') },
    { tag: '84', value: fromHex(card.aid) },
    { tag: '5F34', value: fromHex(card.psn) },
  ];
  if (card.kernel === 'qvsdc') {
    nodes.push({ tag: '9F66', value: sent('9F66') });
    if (card.ctq !== undefined) nodes.push({ tag: '9F6C', value: card.ctq });
  }
  return nodes;
}

const two = (n: number): string => String(n).padStart(2, '0');

/**
 * The 0100 for one tap. Times from `now` (UTC): 7 MMDDhhmmss, 12 hhmmss, 13 MMDD; 37, the
 * retrieval reference number, is YDDDhh + STAN (the common Julian-date form).
 */
export function authorizationRequest(
  card: CardData,
  amount: number,
  stan: string,
  now: Date,
  identity: TerminalIdentity,
  currency: string,
): Iso8583Message {
  const month = two(now.getUTCMonth() + 1);
  const day = two(now.getUTCDate());
  const time = `${two(now.getUTCHours())}${two(now.getUTCMinutes())}${two(now.getUTCSeconds())}`;
  const start = Date.UTC(now.getUTCFullYear(), 0, 1);
  const dayOfYear = String(Math.floor((now.getTime() - start) / 86_400_000) + 1).padStart(3, '0');
  const fields = new Map<number, FieldValue>([
    [Field.pan, card.pan],
    [Field.processingCode, ProcessingCode.purchase],
    [Field.amount, String(amount).padStart(12, '0')],
    [Field.transmissionDateTime, `${month}${day}${time}`],
    [Field.stan, stan],
    [Field.localTime, time],
    [Field.localDate, `${month}${day}`],
    [Field.expiry, card.expiry],
    [Field.posEntryMode, PosEntryMode.contactlessChip],
    [Field.cardSequenceNumber, card.psn.padStart(3, '0')],
    [Field.posConditionCode, PosConditionCode.normal],
    [
      Field.retrievalReferenceNumber,
      `${String(now.getUTCFullYear()).slice(-1)}${dayOfYear}${two(now.getUTCHours())}${stan}`,
    ],
    [Field.terminalId, identity.terminalId.padEnd(8, ' ').slice(0, 8)],
    [Field.merchantId, identity.merchantId.padEnd(15, ' ').slice(0, 15)],
    [Field.merchantNameLocation, identity.merchantNameLocation.padEnd(40, ' ').slice(0, 40)],
    [Field.currencyCode, currency.slice(-3)],
    [Field.iccData, iccData(card)],
  ]);
  return createMessage(interchangeSpec, Mti.authorizationRequest, fields);
}
