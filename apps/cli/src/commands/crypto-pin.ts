import { randomBytes } from 'node:crypto';
import { toHex } from '@amulet/bytes';
import {
  decipherPinBlock,
  decodePinBlock,
  encipherPinBlock,
  encodePinBlock,
  isLuhnValid,
  type KeyBlockHeader,
  luhnCheckDigit,
  parseKeyBlockHeader,
  unwrapKeyBlock,
  wrapKeyBlock,
} from '@amulet/emv';
import type { Command } from 'commander';
import { type CliIo, choiceOption, digitsOption, hexOption, printJson, UsageError } from '../io.ts';

type Fields = Record<string, Uint8Array | string | boolean | KeyBlockHeader>;

/** One JSON object with --json; otherwise one `name: value` line per field (objects as JSON). */
function report(io: CliIo, json: boolean | undefined, fields: Fields): void {
  if (json) {
    printJson(io, fields);
    return;
  }
  for (const [name, value] of Object.entries(fields)) {
    const text =
      value instanceof Uint8Array
        ? toHex(value)
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value);
    io.stdout(`${name}: ${text}\n`);
  }
}

/** Random bytes for PIN block fill and key block padding: the app supplies what packages may not. */
const random = (length: number): Uint8Array => new Uint8Array(randomBytes(length));

const FORMATS = ['0', '1', '2', '3', '4'] as const;

function pinBlockOptions(options: { format: string; pan?: string; key?: string }) {
  const format = Number(choiceOption('--format', options.format, FORMATS)) as 0 | 1 | 2 | 3 | 4;
  if ((format === 0 || format === 3 || format === 4) && options.pan === undefined) {
    throw new UsageError(`--pan is required for PIN block format ${format}`);
  }
  const pan = options.pan === undefined ? {} : { pan: digitsOption('--pan', options.pan, 12, 19) };
  if (format === 4 && options.key === undefined) {
    throw new UsageError('PIN block format 4 has no clear block: give an AES key with --key');
  }
  if (format === 2 && options.key !== undefined) {
    throw new UsageError('PIN block format 2 is for the card (offline PIN) and is not enciphered here');
  }
  const key =
    options.key === undefined
      ? undefined
      : hexOption('--key', options.key, format === 4 ? [16, 24, 32] : [16, 24]);
  return { format, pan, key };
}

/** `amulet crypto pin-block encode|decode`, `amulet crypto tr31 wrap|unwrap`, `amulet crypto luhn`. */
export function registerCryptoPin(crypto: Command, io: CliIo): void {
  const pinBlock = crypto
    .command('pin-block')
    .description('ISO 9564-1 PIN blocks: formats 0, 1, 3 (clear or TDEA), 2 (clear), 4 (AES)');

  pinBlock
    .command('encode')
    .description('build a PIN block: the clear block without --key, the enciphered block with it')
    .requiredOption('--format <0|1|2|3|4>', 'ISO 9564-1 format')
    .requiredOption('--pin <digits>', 'the PIN, 4 to 12 digits')
    .option('--pan <digits>', 'primary account number, 12 to 19 digits (formats 0, 3, 4)')
    .option('--key <hex>', 'TDEA key (16 or 24 bytes; formats 0, 1, 3) or AES key (format 4)')
    .option('--json', 'print one JSON object')
    .action((options) => {
      const { format, pan, key } = pinBlockOptions(options);
      const pin = digitsOption('--pin', options.pin, 4, 12);
      const block =
        key === undefined
          ? encodePinBlock({ format: format as 0 | 1 | 2 | 3, pin, ...pan, random })
          : encipherPinBlock({ format: format as 0 | 1 | 3 | 4, pin, ...pan, key, random });
      report(io, options.json, { pinBlock: block });
    });

  pinBlock
    .command('decode')
    .description('read the PIN from a PIN block, deciphering it first when --key is given')
    .requiredOption('--format <0|1|2|3|4>', 'ISO 9564-1 format')
    .requiredOption('--pin-block <hex>', 'the PIN block (8 bytes; 16 for format 4)')
    .option('--pan <digits>', 'primary account number, 12 to 19 digits (formats 0, 3, 4)')
    .option('--key <hex>', 'TDEA key (16 or 24 bytes; formats 0, 1, 3) or AES key (format 4)')
    .option('--json', 'print one JSON object')
    .action((options) => {
      const { format, pan, key } = pinBlockOptions(options);
      const block = hexOption('--pin-block', options.pinBlock, [format === 4 ? 16 : 8]);
      const pin =
        key === undefined
          ? decodePinBlock({ format: format as 0 | 1 | 2 | 3, block, ...pan })
          : decipherPinBlock({ format: format as 0 | 1 | 3 | 4, block, ...pan, key });
      report(io, options.json, { pin });
    });

  const tr31 = crypto
    .command('tr31')
    .description('TR-31 / ANSI X9.143 key blocks: wrap (versions B, D) and unwrap (versions A, B, C, D)');

  tr31
    .command('wrap')
    .description('protect a key in a key block under a key block protection key')
    .requiredOption('--kbpk <hex>', 'key block protection key: TDEA (16 or 24 bytes) for B, AES for D')
    .requiredOption('--key <hex>', 'the key to protect')
    .requiredOption(
      '--header <text>',
      'header: 16 characters (e.g. D0000P0AE00E0000) and any optional blocks; the length is filled in and a PB block added',
    )
    .option('--masked-key-length <bytes>', 'pad as if the key had this many bytes')
    .option('--json', 'print one JSON object')
    .action((options) => {
      const header = parseKeyBlockHeader(options.header, { padded: false });
      const masked =
        options.maskedKeyLength === undefined
          ? {}
          : { maskedKeyLength: Number(digitsOption('--masked-key-length', options.maskedKeyLength, 1, 4)) };
      const keyBlock = wrapKeyBlock({
        kbpk: hexOption('--kbpk', options.kbpk),
        key: hexOption('--key', options.key),
        header,
        random,
        ...masked,
      });
      report(io, options.json, { keyBlock });
    });

  tr31
    .command('unwrap')
    .description('check a key block and take out its key')
    .requiredOption('--kbpk <hex>', 'key block protection key')
    .requiredOption('--key-block <text>', 'the key block')
    .option('--json', 'print one JSON object')
    .action((options) => {
      const { key, header } = unwrapKeyBlock({
        kbpk: hexOption('--kbpk', options.kbpk),
        keyBlock: options.keyBlock,
      });
      report(io, options.json, { key, header });
    });

  crypto
    .command('luhn')
    .description('Luhn (ISO/IEC 7812-1) check: is the last digit right, and which digit would follow')
    .argument('<digits>', 'a number, for example a PAN')
    .option('--json', 'print one JSON object')
    .action((digits: string, options) => {
      report(io, options.json, { valid: isLuhnValid(digits), checkDigit: luhnCheckDigit(digits) });
    });
}
