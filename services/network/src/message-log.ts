import { toHex } from '@amulet/bytes';
import { Field } from '@amulet/contracts';
import { type Iso8583Message, maskPan } from '@amulet/iso8583';
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
    this.#max = options.maxEntries ?? 10_000;
    this.#sink = options.sink;
  }

  record(at: number, direction: 'in' | 'out', peer: string, message: Iso8583Message): void {
    // Masked now, so no clear PAN is ever held; the time is formatted only when the log is read.
    const line: Line = { at, direction, peer, mti: message.mti, fields: maskedFields(message) };
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

/** A log line as kept: the entry with its time still a number. */
interface Line {
  readonly at: number;
  readonly direction: 'in' | 'out';
  readonly peer: string;
  readonly mti: string;
  readonly fields: LogEntry['fields'];
}

const entryOf = (line: Line): LogEntry => ({
  at: new Date(line.at).toISOString(),
  direction: line.direction,
  peer: line.peer,
  mti: line.mti,
  fields: line.fields,
});

/** The fields of a message as the log shows them. */
export function maskedFields(message: Iso8583Message): Record<string, string | Record<string, string>> {
  const out: Record<string, string | Record<string, string>> = {};
  for (const [field, value] of message.fields) {
    if (trackFields.has(field)) continue;
    if (field === Field.pan && typeof value === 'string') out[field] = maskPan(value);
    else if (secretFields.has(field))
      out[field] = `[${value instanceof Uint8Array ? value.length : 0} bytes masked]`;
    else if (field === Field.iccData && Array.isArray(value))
      out[field] = maskedIcc(value as readonly TlvNode[]);
    else if (typeof value === 'string') out[field] = value;
    else if (value instanceof Uint8Array) out[field] = toHex(value);
    else out[field] = '[not shown]';
  }
  return out;
}

/**
 * Field 55 masked, once per data object list: the switch forwards the acquirer's field 55 list
 * unchanged to the token service and the issuer, so the three log entries of one authorization
 * share one masked copy (entries are read-only).
 */
const maskedIccCache = new WeakMap<readonly TlvNode[], Record<string, string>>();

function maskedIcc(nodes: readonly TlvNode[]): Record<string, string> {
  const cached = maskedIccCache.get(nodes);
  if (cached !== undefined) return cached;
  const out: Record<string, string> = {};
  for (const node of nodes) {
    if (node.tag === '9F26') out[node.tag] = '[elided]';
    else if (node.value === undefined) out[node.tag] = '[constructed]';
    else out[node.tag] = maskTlv(node.tag, node.value).text;
  }
  maskedIccCache.set(nodes, Object.freeze(out));
  return out;
}
