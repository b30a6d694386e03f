import { isAmuletError } from '@amulet/bytes';
import { Command, CommanderError } from 'commander';
import { registerCompanion } from './commands/companion.ts';
import { registerCrypto } from './commands/crypto.ts';
import { registerDemo } from './commands/demo.ts';
import { registerIso8583 } from './commands/iso8583.ts';
import { registerRot } from './commands/rot.ts';
import { registerSe } from './commands/se.ts';
import { registerServe } from './commands/serve.ts';
import { registerTerminal } from './commands/terminal.ts';
import { registerTlv } from './commands/tlv.ts';
import { type CliIo, processIo } from './io.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
/** Bad input: a usage error or input our codecs refuse. One clear line on stderr. */
export const EXIT_BAD_INPUT = 2;

/** A command that ends with a status other than 0 (the demo's failed step) sets it here. */
export interface ExitStatus {
  code: number;
}

export function buildProgram(io: CliIo, status: ExitStatus = { code: EXIT_OK }): Command {
  const program = new Command('amulet')
    .description(
      'Amulet: turn any wearable into a secure payment device, and run every party a payment needs.',
    )
    .version('0.1.0')
    .showSuggestionAfterError()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => {} });
  registerTlv(program, io);
  registerCrypto(program, io);
  registerIso8583(program, io);
  registerRot(program, io);
  registerSe(program, io);
  registerCompanion(program, io);
  registerDemo(program, io, (code) => {
    status.code = code;
  });
  registerServe(program, io);
  registerTerminal(program, io, (code) => {
    status.code = code;
  });
  // Every command reports its own usage errors as ours (exit 2), not commander's exit 1.
  const overrideAll = (command: Command): void => {
    command.exitOverride();
    command.configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => {} });
    for (const child of command.commands) overrideAll(child);
  };
  overrideAll(program);
  return program;
}

/** Runs one invocation and returns the exit status; never throws, never prints a stack trace. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const status: ExitStatus = { code: EXIT_OK };
  const program = buildProgram(io, status);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return status.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT_OK;
      if (error.code === 'commander.help' || error.code === 'commander.executeSubCommandAsync')
        return EXIT_OK;
      io.stderr(`amulet: ${error.message.replace(/^error: /, '')}\n`);
      return EXIT_BAD_INPUT;
    }
    if (isAmuletError(error)) {
      io.stderr(`amulet: ${error.message}${error.code === 'ERR_USAGE' ? '' : ` (${error.code})`}\n`);
      return EXIT_BAD_INPUT;
    }
    const detail = process.env.AMULET_DEBUG ? `\n${(error as Error)?.stack ?? String(error)}` : '';
    io.stderr(`amulet: internal error: ${(error as Error)?.name ?? 'Error'}${detail}\n`);
    return EXIT_FAILURE;
  }
}
