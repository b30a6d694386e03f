import { webSocketTransport } from '@amulet/secure-element';
import { fileTerminalJournal, runTap } from '@amulet/terminal';
import type { Command } from 'commander';
import { type CliIo, printJson, UsageError } from '../io.ts';
import { SETUP } from '../system/system.ts';
import { SERVE_TERMINAL_ID } from './serve.ts';

export interface TapCommandOptions {
  readonly amount: string;
  readonly host: string;
  readonly port: number;
  readonly card: string;
  readonly terminalId?: string;
  readonly json?: boolean;
  /** The terminal's journal file (STAN, unacknowledged reversals); none: STAN 1, reversals in memory. */
  readonly journal?: string;
}

/** Parses "12.34" into minor units (ISO 4217 exponent 2). */
export function amountMinor(value: string): number {
  const match = /^([0-9]{1,9})(?:\.([0-9]{1,2}))?$/.exec(value);
  if (match === null) throw new UsageError('--amount must be a decimal amount like 12.34');
  const minor = Number(match[1]) * 100 + Number((match[2] ?? '0').padEnd(2, '0'));
  if (minor <= 0) throw new UsageError('--amount must be above zero');
  return minor;
}

/** One tap: the kernel against the wearable's field (WebSocket), the 0100 to the acquirer (TCP). */
export async function tapCommand(io: CliIo, options: TapCommandOptions): Promise<number> {
  const amount = amountMinor(options.amount);
  // Read first: a journal this terminal cannot use stops it before it touches the card.
  const journal = options.journal === undefined ? undefined : fileTerminalJournal(options.journal);
  let card: Awaited<ReturnType<typeof webSocketTransport>> | undefined;
  try {
    card = await webSocketTransport(options.card);
    const report = await runTap({
      acquirer: { host: options.host, port: options.port },
      card,
      amount,
      ...(journal === undefined ? {} : { journal }),
      identity: {
        terminalId: options.terminalId ?? SERVE_TERMINAL_ID,
        merchantId: SETUP.merchantId,
        merchantNameLocation: 'AMULET CAFE',
      },
    });
    const o = report.outcome;
    if (options.json === true) printJson(io, { amount, ...o });
    else
      io.stdout(
        `${o.status.toUpperCase()}: ${o.message} (${o.reason}${o.responseCode === undefined ? '' : `, response code ${o.responseCode}`})\n`,
      );
    return o.status === 'approved' ? 0 : 1;
  } finally {
    await card?.close?.();
    journal?.close?.();
  }
}

export function registerTerminal(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  const terminal = program.command('terminal').description('A POS terminal against a running `amulet serve`');
  terminal
    .command('tap')
    .description("Tap the serve's demo wearable: exit 0 when approved, 1 otherwise")
    .requiredOption('--amount <amount>', 'the amount, e.g. 12.34 (EUR)')
    .option('--host <host>', "the acquirer's host", '127.0.0.1')
    .option('--port <port>', "the acquirer's ISO 8583 port", '8583')
    .option('--card <url>', "the wearable's contactless field (WebSocket)", 'ws://127.0.0.1:8584')
    .option('--json', 'print the outcome as one JSON object')
    .option(
      '--journal <file>',
      "the terminal's memory across runs: its STAN, and reversals the acquirer has not acknowledged",
      'amulet-terminal.json',
    )
    .action(
      async (opts: {
        amount: string;
        host: string;
        port: string;
        card: string;
        json?: boolean;
        journal: string;
      }) => {
        if (!/^[0-9]+$/.test(opts.port)) throw new UsageError('--port must be a port number');
        setExitCode(await tapCommand(io, { ...opts, port: Number(opts.port) }));
      },
    );
}
