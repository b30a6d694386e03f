import { toHex } from '@amulet/bytes';
import {
  arpcMethod1,
  arpcMethod2,
  cmac,
  computeCryptogram,
  cryptogramKeys,
  deriveIccMasterKey,
  deriveSessionKey,
  keyCheckValue,
  macIso9797Algorithm3,
} from '@amulet/emv';
import type { Command } from 'commander';
import { type CliIo, choiceOption, digitsOption, hexOption, printJson, UsageError } from '../io.ts';

/** Prints one JSON object with --json, otherwise one `name: value` line per field. */
function report(io: CliIo, json: boolean | undefined, fields: Record<string, Uint8Array | string>): void {
  if (json) {
    printJson(io, fields);
    return;
  }
  for (const [name, value] of Object.entries(fields)) {
    io.stdout(`${name}: ${value instanceof Uint8Array ? toHex(value) : value}\n`);
  }
}

const psnOption = (value: string) => digitsOption('--psn', value, 2, 2);
const panOption = (value: string) => digitsOption('--pan', value, 12, 19);

/** `amulet crypto kcv | derive-icc-key | session-key | cryptogram | arpc | mac`. */
export function registerCryptoEmv(crypto: Command, io: CliIo): void {
  crypto
    .command('kcv')
    .description(
      'key check value: 3DES encrypts zeros; AES uses CMAC (ANSI X9.24-1) or the GlobalPlatform method',
    )
    .requiredOption('--key <hex>', 'the key (8, 16 or 24 bytes for tdes; 16, 24 or 32 for aes)')
    .option('--algorithm <tdes|aes>', 'the key type', 'tdes')
    .option('--method <zeros|cmac|gp-aes>', 'how to compute it (default: zeros for tdes, cmac for aes)')
    .option('--length <bytes>', 'bytes of the result (default 3; 5 for the AES CMAC method)')
    .option('--json', 'print one JSON object')
    .action((options) => {
      const algorithm = choiceOption('--algorithm', options.algorithm, ['tdes', 'aes'] as const);
      const key = hexOption('--key', options.key, algorithm === 'aes' ? [16, 24, 32] : [8, 16, 24]);
      const method =
        options.method === undefined
          ? undefined
          : choiceOption('--method', options.method, ['zeros', 'cmac', 'gp-aes'] as const);
      const length =
        options.length === undefined ? undefined : Number(digitsOption('--length', options.length, 1, 2));
      report(io, options.json, {
        kcv: keyCheckValue(key, { algorithm, ...(method ? { method } : {}), ...(length ? { length } : {}) }),
      });
    });

  crypto
    .command('derive-icc-key')
    .description('ICC master key from an issuer master key (EMV Book 2 A1.4, Option A or B)')
    .requiredOption('--imk <hex>', 'issuer master key, 16 bytes')
    .requiredOption('--pan <digits>', 'primary account number')
    .requiredOption('--psn <2 digits>', 'PAN sequence number')
    .option('--option <a|b>', 'derivation option', 'a')
    .option('--algorithm <tdes|aes>', 'block cipher of the issuer master key', 'tdes')
    .option('--json', 'print one JSON object')
    .action((options) => {
      const iccMasterKey = deriveIccMasterKey({
        imk: hexOption('--imk', options.imk, [16]),
        pan: panOption(options.pan),
        psn: psnOption(options.psn),
        option: choiceOption('--option', options.option, ['a', 'b'] as const),
        algorithm: choiceOption('--algorithm', options.algorithm, ['tdes', 'aes'] as const),
      });
      report(io, options.json, { iccMasterKey });
    });

  crypto
    .command('session-key')
    .description('application cryptogram session key (EMV Book 2 A1.3, or Mastercard SKD with the UN)')
    .requiredOption('--key <hex>', 'ICC master key, 16 bytes')
    .requiredOption('--atc <hex>', 'application transaction counter, 2 bytes')
    .option('--method <emv-csk|mastercard>', 'R = ATC || zeros, or R = ATC || 0000 || UN', 'emv-csk')
    .option('--un <hex>', 'unpredictable number, 4 bytes (mastercard method)')
    .option('--algorithm <tdes|aes>', 'block cipher', 'tdes')
    .option('--json', 'print one JSON object')
    .action((options) => {
      const method = choiceOption('--method', options.method, ['emv-csk', 'mastercard'] as const);
      if (method === 'mastercard' && options.un === undefined)
        throw new UsageError('--un is required with --method mastercard');
      const sessionKey = deriveSessionKey({
        masterKey: hexOption('--key', options.key, [16]),
        atc: hexOption('--atc', options.atc, [2]),
        method,
        algorithm: choiceOption('--algorithm', options.algorithm, ['tdes', 'aes'] as const),
        ...(options.un === undefined ? {} : { unpredictableNumber: hexOption('--un', options.un, [4]) }),
      });
      report(io, options.json, { sessionKey });
    });

  crypto
    .command('cryptogram')
    .description(
      'application cryptogram (ARQC/TC/AAC) for a cryptogram version: derives the ICC key and session key',
    )
    .requiredOption('--imk <hex>', 'issuer master key for application cryptograms, 16 bytes')
    .requiredOption('--pan <digits>', 'primary account number (the DPAN for a token)')
    .requiredOption('--psn <2 digits>', 'PAN sequence number')
    .requiredOption('--atc <hex>', 'application transaction counter, 2 bytes')
    .requiredOption('--data <hex>', 'the data the cryptogram covers, in the CVN order')
    .requiredOption('--cvn <10|18|22|16|17>', 'cryptogram version number')
    .option('--un <hex>', 'unpredictable number, 4 bytes (CVN 16 and 17)')
    .option('--option <a|b>', 'ICC key derivation option', 'a')
    .option('--verbose', 'also print the ICC master key and the session key')
    .option('--json', 'print one JSON object')
    .action((options) => {
      const cvn = Number(choiceOption('--cvn', options.cvn, ['10', '18', '22', '16', '17'] as const)) as
        | 10
        | 18
        | 22
        | 16
        | 17;
      if ((cvn === 16 || cvn === 17) && options.un === undefined)
        throw new UsageError(`--un is required with --cvn ${cvn}`);
      const input = {
        cvn,
        imk: hexOption('--imk', options.imk, [16]),
        pan: panOption(options.pan),
        psn: psnOption(options.psn),
        atc: hexOption('--atc', options.atc, [2]),
        data: hexOption('--data', options.data),
        derivation: choiceOption('--option', options.option, ['a', 'b'] as const),
        ...(options.un === undefined ? {} : { unpredictableNumber: hexOption('--un', options.un, [4]) }),
      };
      const cryptogram = computeCryptogram(input);
      if (!options.verbose) {
        report(io, options.json, { cryptogram });
        return;
      }
      const keys = cryptogramKeys(input);
      report(io, options.json, { cryptogram, iccMasterKey: keys.iccMasterKey, sessionKey: keys.sessionKey });
    });

  crypto
    .command('arpc')
    .description(
      'authorisation response cryptogram: method 1 (ARQC xor ARC) or method 2 (MAC over ARQC || CSU)',
    )
    .requiredOption('--method <1|2>', 'ARPC method (EMV Book 2 8.2)')
    .requiredOption('--key <hex>', 'ICC master key or session key, as the CVN requires, 16 bytes')
    .requiredOption('--arqc <hex>', 'the authorisation request cryptogram, 8 bytes')
    .option('--arc <hex>', 'authorisation response code, 2 bytes (method 1)')
    .option('--csu <hex>', 'card status update, 4 bytes (method 2)')
    .option('--proprietary-data <hex>', 'proprietary authentication data, up to 8 bytes (method 2)', '')
    .option('--algorithm <tdes|aes>', 'block cipher (method 2)', 'tdes')
    .option('--json', 'print one JSON object')
    .action((options) => {
      const method = choiceOption('--method', options.method, ['1', '2'] as const);
      const key = hexOption('--key', options.key, [16]);
      const arqc = hexOption('--arqc', options.arqc, [8]);
      if (method === '1') {
        if (options.arc === undefined) throw new UsageError('--arc is required with --method 1');
        report(io, options.json, { arpc: arpcMethod1(key, arqc, hexOption('--arc', options.arc, [2])) });
        return;
      }
      if (options.csu === undefined) throw new UsageError('--csu is required with --method 2');
      const arpc = arpcMethod2(
        key,
        arqc,
        hexOption('--csu', options.csu, [4]),
        hexOption('--proprietary-data', options.proprietaryData),
        choiceOption('--algorithm', options.algorithm, ['tdes', 'aes'] as const),
      );
      report(io, options.json, { arpc });
    });

  crypto
    .command('mac')
    .description('message authentication code: ISO 9797-1 MAC algorithm 3 (retail) or NIST SP 800-38B CMAC')
    .requiredOption('--algorithm <retail|cmac>', 'MAC algorithm')
    .requiredOption('--key <hex>', "the key: 16 bytes (K || K') for retail; AES or 3DES for cmac")
    .requiredOption('--data <hex>', 'the data')
    .option('--padding <1|2|3>', 'ISO 9797-1 padding method (retail)', '2')
    .option('--cipher <aes|tdes>', 'block cipher (cmac)', 'aes')
    .option('--json', 'print one JSON object')
    .action((options) => {
      const algorithm = choiceOption('--algorithm', options.algorithm, ['retail', 'cmac'] as const);
      const data = hexOption('--data', options.data);
      if (algorithm === 'retail') {
        const padding = Number(choiceOption('--padding', options.padding, ['1', '2', '3'] as const)) as
          | 1
          | 2
          | 3;
        report(io, options.json, {
          mac: macIso9797Algorithm3(hexOption('--key', options.key, [16]), data, padding),
        });
        return;
      }
      const cipher = choiceOption('--cipher', options.cipher, ['aes', 'tdes'] as const);
      const key = hexOption('--key', options.key, cipher === 'aes' ? [16, 24, 32] : [16, 24]);
      report(io, options.json, { mac: cmac(cipher, key, data) });
    });
}
