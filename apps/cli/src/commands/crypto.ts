import type { Command } from 'commander';
import type { CliIo } from '../io.ts';
import { registerCryptoEmv } from './crypto-emv.ts';
import { registerCryptoPin } from './crypto-pin.ts';

/** `amulet crypto ...`: payment cryptography on the command line. */
export function registerCrypto(program: Command, io: CliIo): void {
  const crypto = program
    .command('crypto')
    .description('payment cryptography: keys, cryptograms, MACs, PIN blocks, key blocks');
  registerCryptoEmv(crypto, io);
  registerCryptoPin(crypto, io);
}
