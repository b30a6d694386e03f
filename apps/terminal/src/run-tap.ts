import { randomBytes } from 'node:crypto';
import type { Iso8583Message } from '@amulet/iso8583';
import { interchangeCodec } from '@amulet/network';
import type { SeTransport } from '@amulet/secure-element';
import { createTcpTransport, type TcpEndpoint } from '@amulet/transport';
import { defaultKernelConfig, type KernelConfig } from './kernel-config.ts';
import type { TerminalIdentity } from './online-request.ts';
import { PosTerminal, type TapReport } from './pos-terminal.ts';
import type { TerminalJournal } from './terminal-journal.ts';

export interface RunTapOptions {
  /** The acquirer's ISO 8583 port. */
  readonly acquirer: TcpEndpoint;
  /** The card: an in-process SE, or a wearable reached over WebSocket or PC/SC. */
  readonly card: SeTransport;
  /** Minor units. */
  readonly amount: number;
  readonly identity: TerminalIdentity;
  readonly kernel?: KernelConfig;
  /** The STAN to use (field 11) without a journal; with one, the journal's next. */
  readonly stan?: number;
  readonly timeoutMs?: number;
  /**
   * The terminal's memory across runs (`fileTerminalJournal`): its STAN counter, and reversals the
   * acquirer has not acknowledged, sent again (0421) before this tap.
   */
  readonly journal?: TerminalJournal;
}

/**
 * One tap from the command line (`amulet terminal tap`): connects to the acquirer over TCP, runs
 * the kernel against the card, sends the 0100, waits for any reversal the terminal had to send,
 * and closes. Time and the unpredictable number come from the system here, at the edge.
 */
export async function runTap(options: RunTapOptions): Promise<TapReport> {
  const client = createTcpTransport<Iso8583Message>({ codec: interchangeCodec }).connect(options.acquirer, {
    reconnect: { maxAttempts: 3 },
  });
  try {
    await client.connected();
    const terminal = new PosTerminal({
      identity: options.identity,
      kernel: options.kernel ?? defaultKernelConfig,
      acquirer: client,
      now: () => new Date(),
      random: (n) => new Uint8Array(randomBytes(n)),
      firstStan: options.stan ?? 1,
      responseTimeoutMs: options.timeoutMs ?? 10_000,
      reversal: { intervalMs: 2_000, maxAttempts: 5 },
      ...(options.journal === undefined ? {} : { journal: options.journal }),
    });
    terminal.resumeReversals();
    const report = await terminal.tap(options.card, options.amount);
    await terminal.settled();
    return report;
  } finally {
    await client.close();
  }
}
