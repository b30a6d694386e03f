import { resolve } from 'node:path';
import type { WebSocketSeServer } from '@amulet/secure-element';
import type { Command } from 'commander';
import { type CliIo, UsageError } from '../io.ts';
import { provisionWearable } from '../system/demo-wearable.ts';
import { buildSystem, type System } from '../system/system.ts';

export const SERVE_TERMINAL_ID = 'T0000001';

export interface ServeOptions {
  readonly dataDir: string;
  readonly host?: string;
  readonly port: number;
  readonly isoPort: number;
  /** The demo wearable's contactless field, over WebSocket. */
  readonly cardPort: number;
}

export interface Served {
  readonly system: System;
  readonly card: WebSocketSeServer;
  readonly cardLast4: string;
  /** Stops taking work, drains what is in flight, closes every party and store. */
  stop(): Promise<void>;
}

/**
 * Every party in one process on SQLite files under the data directory (created on first run),
 * plus one demo wearable made at each start through the running parties, whose contactless field
 * is served over WebSocket for `amulet terminal tap` in another shell.
 */
export async function startServe(options: ServeOptions): Promise<Served> {
  const system = await buildSystem({
    store: { kind: 'sqlite' },
    dataDir: options.dataDir,
    ...(options.host === undefined ? {} : { host: options.host }),
    httpPort: options.port,
    isoPort: options.isoPort,
  });
  try {
    await system.ensureTerminal(SERVE_TERMINAL_ID);
    const pin = String(1000 + ((system.random(2)[0] ?? 0) % 9000)).padStart(4, '0');
    const { wearable, card } = await provisionWearable(system, pin);
    const field = await wearable.serveNfc({ host: options.host ?? '127.0.0.1', port: options.cardPort });
    let stopping: Promise<void> | undefined;
    return {
      system,
      card: field,
      cardLast4: card.last4,
      stop: () => {
        stopping ??= (async () => {
          await field.close();
          await system.close();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await system.close();
    throw error;
  }
}

function port(name: string, value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n > 65535)
    throw new UsageError(`${name} must be a port number (0 to 65535)`);
  return n;
}

export function registerServe(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('Run every service in one process on SQLite under ./amulet-data (HTTP APIs, ISO 8583 port)')
    .option('--data-dir <dir>', 'where the databases, HSM keystores and root of trust live', 'amulet-data')
    .option('--host <host>', 'the address to listen on', '127.0.0.1')
    .option('--port <port>', 'the HTTP port (wallet /wallet, token service /tsp, /healthz, /readyz)', '8080')
    .option('--iso-port <port>', "the acquirer's ISO 8583 port for terminals", '8583')
    .option('--card-port <port>', "the demo wearable's contactless field over WebSocket", '8584')
    .action(
      async (opts: { dataDir: string; host: string; port: string; isoPort: string; cardPort: string }) => {
        const served = await startServe({
          dataDir: resolve(opts.dataDir),
          host: opts.host,
          port: port('--port', opts.port),
          isoPort: port('--iso-port', opts.isoPort),
          cardPort: port('--card-port', opts.cardPort),
        });
        const { system } = served;
        io.stdout(`amulet serve: data in ${resolve(opts.dataDir)}\n`);
        io.stdout(
          `  HTTP        ${system.httpUrl} (wallet /wallet, token service /tsp, /healthz, /readyz)\n`,
        );
        io.stdout(
          `  ISO 8583    ${system.acquirerEndpoint.host}:${system.acquirerEndpoint.port} (acquirer, terminal ${SERVE_TERMINAL_ID})\n`,
        );
        io.stdout(`  wearable    ${served.card.url} (token ...${served.cardLast4})\n`);
        io.stdout('Try in another shell: npx amulet terminal tap --amount 12.34\n');
        await new Promise<void>((done) => {
          const stop = (signal: string): void => {
            io.stdout(`amulet serve: ${signal}, draining and closing\n`);
            served.stop().then(done, done);
          };
          process.once('SIGTERM', () => stop('SIGTERM'));
          process.once('SIGINT', () => stop('SIGINT'));
        });
        io.stdout('amulet serve: stopped\n');
      },
    );
}
