import { toHex } from '@amulet/bytes';
import { decodeTlv, formatTlv } from '@amulet/tlv';

/** One exchange on the NFC interface. */
export interface TraceEntry {
  readonly command: Uint8Array;
  readonly response: Uint8Array;
}

/** The most exchanges a trace keeps (the oldest go first). */
export const TRACE_ENTRIES_MAX = 256;

/** A bounded record of the APDUs a reader exchanged with the SE. */
export class ApduTrace {
  readonly #entries: TraceEntry[] = [];

  record(command: Uint8Array, response: Uint8Array): void {
    this.#entries.push({ command: command.slice(), response: response.slice() });
    if (this.#entries.length > TRACE_ENTRIES_MAX) this.#entries.shift();
  }

  entries(): readonly TraceEntry[] {
    return [...this.#entries];
  }

  clear(): void {
    this.#entries.length = 0;
  }
}

/** Command names by CLA class and INS (ISO/IEC 7816-4, EMV Book 3, GlobalPlatform). */
const COMMAND_NAMES: Readonly<Record<string, string>> = {
  '0A4': 'SELECT',
  '8A8': 'GET PROCESSING OPTIONS',
  '0B2': 'READ RECORD',
  '8AE': 'GENERATE AC',
  '0CA': 'GET DATA',
  '8CA': 'GET DATA',
  '0C0': 'GET RESPONSE',
  '8F2': 'GET STATUS',
  '850': 'INITIALIZE UPDATE',
  '882': 'EXTERNAL AUTHENTICATE',
  '888': 'INTERNAL AUTHENTICATE',
  '8E6': 'INSTALL',
  '8E2': 'STORE DATA',
  '8E4': 'DELETE',
  '8F0': 'SET STATUS',
};

export function commandName(command: Uint8Array): string {
  const cla = command[0] ?? 0;
  const ins = command[1] ?? 0;
  const secured = (cla & 0x04) !== 0 ? ' (secured)' : '';
  const key = `${(cla & 0x80) !== 0 ? '8' : '0'}${ins.toString(16).padStart(2, '0').toUpperCase()}`;
  return `${COMMAND_NAMES[key] ?? 'UNKNOWN'}${secured}`;
}

/**
 * The trace as text for a person: each command with its name, and each response's data objects
 * decoded with tag names by @amulet/tlv, card data masked (first 6 / last 4 of a DPAN; track 2
 * and cryptograms hidden). Commands are shown in hex only up to their header and length: their
 * data (amounts, dates) is shown decoded where the command is a SELECT, and as a length otherwise.
 */
export function formatTrace(entries: readonly TraceEntry[]): string {
  const lines: string[] = [];
  for (const { command, response } of entries) {
    const name = commandName(command);
    const header = toHex(command.subarray(0, 4));
    const lc = command.length > 5 ? (command[4] ?? 0) : 0;
    const data = command.subarray(5, 5 + lc);
    const shown = name === 'SELECT' ? ` ${toHex(data)}` : lc > 0 ? ` [${lc} bytes]` : '';
    lines.push(`> ${name}: ${header}${shown}`);
    const sw = toHex(response.subarray(response.length - 2));
    const body = response.subarray(0, Math.max(0, response.length - 2));
    lines.push(`< SW ${sw}${body.length > 0 ? `, ${body.length} bytes` : ''}`);
    if (body.length === 0) continue;
    try {
      const text = formatTlv(decodeTlv(body, { allowTrailingPadding: false }));
      for (const line of text.split('\n')) lines.push(`    ${line}`);
    } catch {
      lines.push('    (not BER-TLV: not shown)');
    }
  }
  return lines.join('\n');
}
