import { toHex } from '@amulet/bytes';
import { Field } from '@amulet/contracts';
import { type FieldValue, type Iso8583Message, maskPan } from '@amulet/iso8583';
import { maskTlv, type TlvNode } from '@amulet/tlv';

/** Track data never enters the log, not even masked (PCI DSS 3.2.1). */
const trackFields = new Set([35, 36, 45]);
/** PIN block and MACs: shown as their length only. */
const secretFields = new Set([52, 64, 96, 128]);

/** One line of the network's message log: who, which way, and the message with card data masked. */
export interface LogEntry {
  /** ISO 8601: never a bare run of digits that a PAN scanner could mistake for a card number. */
  readonly at: string;
  readonly direction: 'in' | 'out';
  readonly peer: string;
  readonly mti: string;
  /** Field number -> the value as the log may show it; field 55 as its data objects. */
  readonly fields: Readonly<Record<string, string | Readonly<Record<string, string>>>>;
}

/**
 * The network's message log (DESIGN.md: the switch must never keep a PAN beyond routing): every
 * message with field 2 as its first six and last four digits (PCI DSS 3.4), field 55 with the
 * application cryptogram (9F26) elided and the other card data objects masked by the EMV
 * dictionary (@amulet/tlv maskTlv: 5A, 57 and the like), track data (35, 36, 45) left out and
 * PIN blocks and MACs reduced to their length. Masking happens when the entry is made, so the
 * log never holds a clear PAN. A bounded ring in memory, plus an optional sink that receives
 * each line as JSON text.
 */
export class MessageLog {
  /** A ring: `#next` is where the next line goes once the ring is full (no array shifting). */
  readonly #lines: Line[] = [];
  #next = 0;
  readonly #max: number;
  readonly #sink: ((line: string) => void) | undefined;

  constructor(options: { readonly maxEntries?: number; readonly sink?: (line: string) => void } = {}) {
    this.#max = Math.max(1, options.maxEntries ?? 10_000);
    this.#sink = options.sink;
  }

  record(at: number, direction: 'in' | 'out', peer: string, message: Iso8583Message): void {
    // Masked now, so no clear PAN is ever held; the time is formatted only when the log is read.
    const line: Line = { at, direction, peer, mti: message.mti, fields: maskedPairs(message) };
    if (this.#lines.length < this.#max) this.#lines.push(line);
    else {
      this.#lines[this.#next] = line;
      this.#next = (this.#next + 1) % this.#max;
    }
    if (this.#sink !== undefined) this.#sink(JSON.stringify(entryOf(line)));
  }

  /** The entries kept, oldest first. */
  entries(): readonly LogEntry[] {
    const lines =
      this.#next === 0
        ? this.#lines
        : [...this.#lines.slice(this.#next), ...this.#lines.slice(0, this.#next)];
    return lines.map(entryOf);
  }

  /** The whole log as JSON lines, what a file sink would hold. */
  text(): string {
    return this.entries()
      .map((entry) => JSON.stringify(entry))
      .join('\n');
  }
}

/**
 * Field 55 as kept: tag, shown value, tag, shown value… (the 9F26 cryptogram elided, card data
 * masked by the EMV dictionary).
 */
type IccPairs = readonly string[];

/**
 * A message's fields as kept: field number, shown value, field number, shown value… A line lives
 * until the ring turns over, long enough to be promoted out of V8's young generation, so it is
 * kept as one flat array of values that are mostly the message's own strings. An object keyed by
 * field number would carry a backing store as long as the largest field number, and one keyed by
 * tag would mix array indexes ('95', '82') with names: a line of a message with field 55 kept
 * about 3.3 KB that way against about 1.5 KB this way (docs/network.md). Objects are made when
 * the log is read.
 */
type Pairs = readonly (number | string | IccPairs)[];

/** A log line as kept: the entry with its time still a number and its fields as pairs. */
interface Line {
  readonly at: number;
  readonly direction: 'in' | 'out';
  readonly peer: string;
  readonly mti: string;
  readonly fields: Pairs;
}

const entryOf = (line: Line): LogEntry => ({
  at: new Date(line.at).toISOString(),
  direction: line.direction,
  peer: line.peer,
  mti: line.mti,
  fields: fieldsOf(line.fields),
});

function fieldsOf(pairs: Pairs): Record<string, string | Record<string, string>> {
  const out: Record<string, string | Record<string, string>> = {};
  for (let i = 0; i < pairs.length; i += 2) {
    const value = pairs[i + 1]!;
    out[pairs[i] as number] = typeof value === 'string' ? value : iccOf(value as IccPairs);
  }
  return out;
}

function iccOf(pairs: IccPairs): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < pairs.length; i += 2) out[pairs[i]!] = pairs[i + 1]!;
  return out;
}

/** The fields of a message as the log shows them. */
export function maskedFields(message: Iso8583Message): Record<string, string | Record<string, string>> {
  return fieldsOf(maskedPairs(message));
}

/**
 * The switch logs the same message object more than once (the acquirer's 0100 as it arrives and
 * as it goes to the token service): it is masked once. Messages are not changed once made.
 */
const maskedPairsCache = new WeakMap<Iso8583Message, Pairs>();

function maskedPairs(message: Iso8583Message): Pairs {
  const cached = maskedPairsCache.get(message);
  if (cached !== undefined) return cached;
  // Sized once and filled by index; forEach, since iterating a Map's entries makes a pair per field.
  const out = new Array<number | string | IccPairs>(2 * message.fields.size);
  let n = 0;
  message.fields.forEach((value, field) => {
    if (trackFields.has(field)) return;
    out[n++] = field;
    out[n++] = shownField(field, value);
  });
  out.length = n;
  maskedPairsCache.set(message, out);
  return out;
}

function shownField(field: number, value: FieldValue): string | IccPairs {
  if (field === Field.pan && typeof value === 'string') return maskPan(value);
  if (secretFields.has(field)) return `[${value instanceof Uint8Array ? value.length : 0} bytes masked]`;
  if (field === Field.iccData && Array.isArray(value)) return maskedIcc(value as readonly TlvNode[]);
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return toHex(value);
  return '[not shown]';
}

/**
 * Field 55 masked, once per data object list: the switch forwards the acquirer's field 55 list
 * unchanged to the token service and the issuer, so the log lines of one authorization share one
 * masked copy (lines are read-only).
 */
const maskedIccCache = new WeakMap<readonly TlvNode[], IccPairs>();

function maskedIcc(nodes: readonly TlvNode[]): IccPairs {
  const cached = maskedIccCache.get(nodes);
  if (cached !== undefined) return cached;
  const out = new Array<string>(2 * nodes.length);
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    out[2 * i] = node.tag;
    if (node.tag === '9F26') out[2 * i + 1] = '[elided]';
    else if (node.value === undefined) out[2 * i + 1] = '[constructed]';
    else out[2 * i + 1] = maskTlv(node.tag, node.value).text;
  }
  maskedIccCache.set(nodes, out);
  return out;
}
