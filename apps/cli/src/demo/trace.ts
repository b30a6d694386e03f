import { appendFileSync, writeFileSync } from 'node:fs';
import { decodeCommandApdu, decodeResponseApdu, describeStatusWord } from '@amulet/apdu';
import { toHex } from '@amulet/bytes';
import { describeMessage, type Iso8583Message, type MessageSpec } from '@amulet/iso8583';
import { type DescribedTlv, decodeTlv, describeTlv } from '@amulet/tlv';

/** One line of a trace: an APDU exchange or an ISO 8583 message, decoded and masked. */
export type TraceEntry =
  | {
      readonly kind: 'apdu';
      readonly seq: number;
      readonly between: string;
      readonly command: { readonly header: string; readonly data?: DescribedTlv[] | string };
      readonly response: {
        readonly sw: string;
        readonly meaning: string;
        readonly data?: DescribedTlv[] | string;
      };
    }
  | {
      readonly kind: 'iso8583';
      readonly seq: number;
      readonly from: string;
      readonly to: string;
      readonly message: ReturnType<typeof describeMessage>;
    }
  | { readonly kind: 'note'; readonly seq: number; readonly text: string };

/**
 * Every APDU and ISO 8583 message of a run, decoded with the EMV dictionary and masked the way
 * the dictionary and the message spec mark sensitive data (PAN, track data, cryptogram keys'
 * outputs stay, clear card numbers never do). Written as JSON lines.
 */
export class Trace {
  readonly #entries: TraceEntry[] = [];
  readonly #file: string | undefined;
  #seq = 0;

  constructor(file?: string) {
    this.#file = file;
    if (file !== undefined) writeFileSync(file, '', { mode: 0o600 });
  }

  get entries(): readonly TraceEntry[] {
    return this.#entries;
  }

  apdu(between: string, command: Uint8Array, response: Uint8Array): void {
    this.#add({
      kind: 'apdu',
      seq: ++this.#seq,
      between,
      command: describeCommand(command),
      response: describeResponse(response),
    });
  }

  iso8583(spec: MessageSpec, from: string, to: string, message: Iso8583Message): void {
    this.#add({ kind: 'iso8583', seq: ++this.#seq, from, to, message: describeMessage(spec, message) });
  }

  note(text: string): void {
    this.#add({ kind: 'note', seq: ++this.#seq, text });
  }

  #add(entry: TraceEntry): void {
    this.#entries.push(entry);
    if (this.#file !== undefined) appendFileSync(this.#file, `${JSON.stringify(entry)}\n`);
  }
}

function tlvOrHex(bytes: Uint8Array): DescribedTlv[] | string {
  try {
    return describeTlv(decodeTlv(bytes));
  } catch {
    // Not BER-TLV (a PDOL value list, a challenge): shown as its length only, since arbitrary
    // bytes may hold anything.
    return `${bytes.length} bytes`;
  }
}

function describeCommand(bytes: Uint8Array): { header: string; data?: DescribedTlv[] | string } {
  try {
    const command = decodeCommandApdu(bytes);
    const header = toHex(Uint8Array.of(command.cla, command.ins, command.p1, command.p2));
    return command.data === undefined || command.data.length === 0
      ? { header }
      : { header, data: tlvOrHex(command.data) };
  } catch {
    return { header: `malformed (${bytes.length} bytes)` };
  }
}

function describeResponse(bytes: Uint8Array): {
  sw: string;
  meaning: string;
  data?: DescribedTlv[] | string;
} {
  try {
    const response = decodeResponseApdu(bytes);
    const { sw, meaning } = describeStatusWord(response.sw);
    return response.data.length === 0 ? { sw, meaning } : { sw, meaning, data: tlvOrHex(response.data) };
  } catch {
    return { sw: 'none', meaning: `malformed (${bytes.length} bytes)` };
  }
}
