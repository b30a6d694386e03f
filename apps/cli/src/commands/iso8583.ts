import { readFile } from 'node:fs/promises';
import { toHex } from '@amulet/bytes';
import {
  describeMessage,
  formatMessage,
  iso8583Ascii1987,
  type MessageSpec,
  messageFromJson,
  pack,
  parseSpecJson,
  shippedSpecs,
  unpack,
} from '@amulet/iso8583';
import type { Command } from 'commander';
import { type CliIo, hexOption, printJson, UsageError } from '../io.ts';

const DEFAULT_SPEC = iso8583Ascii1987.name;

/** `amulet iso8583 unpack | pack | specs`: ISO 8583 messages under a shipped or a JSON spec. */
export function registerIso8583(program: Command, io: CliIo): void {
  const iso8583 = program
    .command('iso8583')
    .description('Pack and unpack ISO 8583 messages; sensitive fields are masked unless --reveal');

  iso8583
    .command('unpack')
    .description('Decode a message given as hex: fields with their descriptions, field 55 as named EMV tags')
    .argument('<hex>', 'the message bytes as hexadecimal (no length header)')
    .option('--spec <name|file.json>', `a shipped spec name or a JSON spec file (default ${DEFAULT_SPEC})`)
    .option('--json', 'print one JSON object (with --reveal, `amulet iso8583 pack` reads it back)')
    .option('--reveal', 'show PAN, track data, PIN block and cryptograms in clear')
    .action(async (hex: string, options: { spec?: string; json?: boolean; reveal?: boolean }) => {
      const spec = await loadSpec(options.spec ?? DEFAULT_SPEC);
      const message = unpack(spec, hexOption('the message', hex));
      const reveal = options.reveal === true;
      if (options.json === true)
        printJson(io, { spec: spec.name, ...describeMessage(spec, message, { reveal }) });
      else io.stdout(`${formatMessage(spec, message, { reveal })}\n`);
    });

  iso8583
    .command('pack')
    .description('Encode a message from a JSON file (or - for standard input) and print its hex')
    .argument(
      '<file>',
      'a JSON message: {"mti":"0200","fields":{"2":"...","55":"9F2608..."}}, or unpack --json --reveal output',
    )
    .option(
      '--spec <name|file.json>',
      `a shipped spec name or a JSON spec file (default: the JSON's "spec", else ${DEFAULT_SPEC})`,
    )
    .action(async (file: string, options: { spec?: string }) => {
      const text = file === '-' ? await io.readStdin() : await readText(file, 'message');
      const json = parseJson(text, 'the message');
      const named = typeof json === 'object' && json !== null && 'spec' in json ? json.spec : undefined;
      const spec = await loadSpec(options.spec ?? (typeof named === 'string' ? named : DEFAULT_SPEC));
      io.stdout(`${toHex(pack(spec, messageFromJson(spec, json)))}\n`);
    });

  iso8583
    .command('specs')
    .description('List the shipped message specs')
    .option('--json', 'print one JSON object')
    .action((options: { json?: boolean }) => {
      const specs = Object.values(shippedSpecs).map((spec) => ({
        name: spec.name,
        description: spec.description,
      }));
      if (options.json === true) printJson(io, { specs });
      else for (const spec of specs) io.stdout(`${spec.name.padEnd(22)} ${spec.description}\n`);
    });
}

/** A shipped spec by name, or a JSON spec file (a name ending in .json). */
async function loadSpec(nameOrFile: string): Promise<MessageSpec> {
  const shipped = shippedSpecs[nameOrFile];
  if (shipped !== undefined) return shipped;
  if (!nameOrFile.endsWith('.json')) {
    throw new UsageError(
      `--spec must be one of ${Object.keys(shippedSpecs).join(', ')} or a .json spec file`,
    );
  }
  return parseSpecJson(parseJson(await readText(nameOrFile, 'spec'), 'the spec file'));
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read the ${what} file ${file}`);
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${what} is not valid JSON`);
  }
}
