import { readFile } from 'node:fs/promises';
import { toHex } from '@amulet/bytes';
import { decodeTlv, describeTlv, encodeTlv, formatTlv, parseTlvJson } from '@amulet/tlv';
import type { Command } from 'commander';
import { type CliIo, hexOption, printJson, UsageError } from '../io.ts';

interface DecodeOptions {
  readonly json?: boolean;
  readonly reveal?: boolean;
  readonly opaque?: string;
}

/**
 * `amulet tlv decode <hex>`: the EMV BER-TLV tree with tag names, sensitive values masked unless
 * --reveal. `amulet tlv encode <file|->`: the JSON tree `decode --json --reveal` prints, back to
 * hex. Malformed input exits 2 with the codec's one-line error naming the offset.
 */
export function registerTlv(program: Command, io: CliIo): void {
  const tlv = program.command('tlv').description('decode and encode EMV BER-TLV data (EMV Book 3 Annex B)');

  tlv
    .command('decode')
    .description('print the data objects in <hex> as a tree, masking card data unless --reveal')
    .argument('<hex>', 'BER-TLV bytes as hexadecimal')
    .option('--json', 'print one JSON object {"tlv": [...]}')
    .option('--reveal', 'show sensitive and secret values (PAN, track 2, cryptograms) in full')
    .option('--opaque <tags>', 'comma-separated constructed tags to keep as raw values (vendor templates)')
    .action((hex: string, options: DecodeOptions) => {
      const bytes = hexOption('hex', hex);
      const opaqueTags = parseTags(options.opaque);
      const nodes = decodeTlv(bytes, opaqueTags.length > 0 ? { opaqueTags } : {});
      const reveal = { reveal: options.reveal === true };
      if (options.json === true) printJson(io, { tlv: describeTlv(nodes, reveal) });
      else if (nodes.length > 0) io.stdout(`${formatTlv(nodes, reveal)}\n`);
    });

  tlv
    .command('encode')
    .description('encode the JSON tree printed by "decode --json --reveal" (a file, or - for stdin)')
    .argument('<file>', 'JSON file, or - to read standard input')
    .option('--json', 'print one JSON object {"hex": ...}')
    .action(async (file: string, options: { json?: boolean }) => {
      const text = await readInput(file, io);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new UsageError('the TLV input is not valid JSON');
      }
      const hex = toHex(encodeTlv(parseTlvJson(json)));
      if (options.json === true) printJson(io, { hex });
      else io.stdout(`${hex}\n`);
    });
}

function parseTags(list: string | undefined): string[] {
  if (list === undefined) return [];
  const tags = list.split(',').map((tag) => tag.trim().toUpperCase());
  if (!tags.every((tag) => /^(?:[0-9A-F]{2}){1,4}$/.test(tag))) {
    throw new UsageError('--opaque must be a comma-separated list of hex tags');
  }
  return tags;
}

async function readInput(file: string, io: CliIo): Promise<string> {
  if (file === '-') return io.readStdin();
  try {
    return await readFile(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read the file ${JSON.stringify(file)}`);
  }
}
