import { readFileSync } from 'node:fs';
import { fromPemAll } from '@amulet/pki';
import type { Command } from 'commander';
import {
  type CommandIo,
  type CompanionState,
  companion,
  idOption,
  jsonOption,
  pinLine,
  print,
  readState,
  stateOption,
  UsageError,
  wallet,
  wearableUrlOption,
  writeState,
} from './command-support.ts';
import type { Companion } from './companion.ts';
import { type PairedWearable, webSocketWearable } from './wearable-link.ts';

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const unb64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'));

/** Root-of-trust certificates from a PEM file (one or more blocks) or a single DER file. */
function trustAnchorsFrom(path: string): Uint8Array[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new UsageError('--root file cannot be read');
  }
  const text = bytes.toString('latin1');
  if (text.includes('-----BEGIN')) {
    let blocks: Uint8Array[];
    try {
      blocks = fromPemAll(text, 'CERTIFICATE');
    } catch {
      throw new UsageError('--root file holds a PEM block that is not valid');
    }
    if (blocks.length === 0) throw new UsageError('--root file holds no CERTIFICATE block');
    return blocks;
  }
  // DER: a SEQUENCE (X.690 8.9), the shape of a certificate; the chain check does the rest.
  if (bytes[0] !== 0x30) throw new UsageError('--root file must be a PEM or DER certificate');
  return [new Uint8Array(bytes)];
}

/**
 * Opens the secure link to the wearable paired before (its device certificate must match: no
 * code to compare), runs `work`, and closes the connection.
 */
export async function withWearable<T>(
  state: CompanionState,
  urlOverride: string | undefined,
  work: (phone: Companion, wearable: PairedWearable) => Promise<T>,
): Promise<T> {
  const paired = state.wearable;
  if (paired === undefined) throw new UsageError('no wearable is paired: run `amulet companion pair` first');
  const url = urlOverride === undefined ? paired.url : wearableUrlOption(urlOverride);
  const phone = companion(state, paired.trustAnchors.map(unb64), paired.oem);
  return wallet(async () => {
    const transport = await webSocketWearable(url);
    try {
      return await work(phone, await phone.connect(transport, unb64(paired.certificate)));
    } finally {
      await transport.close();
    }
  });
}

/** The paired wearable's device id, checked against --device when given. */
function pairedDevice(state: CompanionState, device: string | undefined): string {
  const paired = state.wearable;
  if (paired === undefined) throw new UsageError('no wearable is paired: run `amulet companion pair` first');
  if (device !== undefined && idOption('--device', device) !== paired.deviceId)
    throw new UsageError('--device is not the wearable paired from this state');
  return paired.deviceId;
}

const wearableOption = ['--wearable <url>', "the wearable's phone link (default: the one paired)"] as const;

/** `amulet companion pair | set-pin | verify-pin | found | sync | wearable-cards`: the steps that need the wearable. */
export function registerWearableSteps(companionCommand: Command, io: CommandIo): void {
  companionCommand
    .command('pair')
    .description(
      'pair a wearable: verify its chain, compare the six digits (type the code the wearable shows, on stdin), register it',
    )
    .requiredOption(
      '--wearable <url>',
      "the wearable's phone link (amulet wearable run --link-port), ws://...",
    )
    .requiredOption('--root <file>', 'the root-of-trust certificate(s), PEM or DER')
    .requiredOption('--oem <id>', "the OEM's tenant in the root of trust (its device CA)")
    .option(...stateOption)
    .option(...jsonOption)
    .action(
      async (options: { wearable: string; root: string; oem: string; state: string; json?: boolean }) => {
        const url = wearableUrlOption(options.wearable);
        const oem = idOption('--oem', options.oem);
        const trustAnchors = trustAnchorsFrom(options.root);
        const state = readState(options.state);
        if (state.session === undefined) throw new UsageError('log in first: `amulet companion login`');
        const phone = companion(state, trustAnchors, oem);
        const { device, wearable } = await wallet(async () => {
          const transport = await webSocketWearable(url);
          try {
            return await phone.pair(transport, async (sas) => {
              // The phone's screen: the user types what the wearable's screen shows (stdin).
              io.stderr(`pairing code on the phone: ${sas}\ntype the code the wearable shows:\n`);
              const typed = (await io.readStdin()).split('\n')[0]?.trim() ?? '';
              return typed === sas;
            });
          } finally {
            await transport.close();
          }
        });
        const leaf = wearable.chain[0];
        if (leaf === undefined) throw new UsageError('the wearable sent no device certificate');
        writeState(options.state, {
          ...state,
          wearable: {
            url,
            deviceId: device.id,
            certificate: b64(leaf),
            trustAnchors: trustAnchors.map(b64),
            oem,
          },
        });
        print(io, options.json, { device });
      },
    );

  companionCommand
    .command('set-pin')
    .description("set the PIN (on stdin) in the wearable's secure element, over the secure link")
    .option(...wearableOption)
    .option(...stateOption)
    .option(...jsonOption)
    .action(async (options: { wearable?: string; state: string; json?: boolean }) => {
      const state = readState(options.state);
      pairedDevice(state, undefined);
      const pin = await pinLine(io);
      await withWearable(state, options.wearable, (phone, wearable) => phone.setPin(wearable, pin));
      print(io, options.json, { pin: 'enrolled' });
    });

  companionCommand
    .command('verify-pin')
    .description('re-enter the PIN (on stdin): a new CDCVM session while the wearable stays on the wrist')
    .option(...wearableOption)
    .option(...stateOption)
    .option(...jsonOption)
    .action(async (options: { wearable?: string; state: string; json?: boolean }) => {
      const state = readState(options.state);
      pairedDevice(state, undefined);
      const pin = await pinLine(io);
      const verdict = await withWearable(state, options.wearable, (phone, wearable) =>
        phone.verifyPin(wearable, pin),
      );
      if (verdict.status !== 'verified')
        throw new UsageError(`the PIN was not verified: ${verdict.status}, ${verdict.triesLeft} tries left`);
      print(io, options.json, { pin: verdict.status, triesLeft: verdict.triesLeft });
    });

  companionCommand
    .command('found')
    .description(
      'report the wearable found: its SE verifies the PIN (on stdin), attests, and the tokens resume',
    )
    .option('--device <id>', 'the wearable (default: the one paired)')
    .option(...wearableOption)
    .option(...stateOption)
    .option(...jsonOption)
    .action(async (options: { device?: string; wearable?: string; state: string; json?: boolean }) => {
      const state = readState(options.state);
      const device = pairedDevice(state, options.device);
      const pin = await pinLine(io);
      const found = await withWearable(state, options.wearable, (phone, wearable) =>
        phone.reportFound(device, wearable, pin),
      );
      print(io, options.json, { device: found });
    });

  companionCommand
    .command('sync')
    .description(
      "relay the wallet's commands (lock, unlock, default, delete, wipe) to the wearable; --follow keeps the push channel open",
    )
    .option('--device <id>', 'the wearable (default: the one paired)')
    .option('--follow', 'stay connected and relay each pushed command until SIGINT')
    .option(...wearableOption)
    .option(...stateOption)
    .option(...jsonOption)
    .action(
      async (options: {
        device?: string;
        follow?: boolean;
        wearable?: string;
        state: string;
        json?: boolean;
      }) => {
        const state = readState(options.state);
        const device = pairedDevice(state, options.device);
        if (options.follow !== true) {
          const relayed = await withWearable(state, options.wearable, (phone, wearable) =>
            phone.syncCommands(device, wearable),
          );
          print(io, options.json, { relayed });
          return;
        }
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once('SIGINT', onSignal);
        try {
          await withWearable(state, options.wearable, (phone, wearable) =>
            phone.relayDeviceCommands(device, wearable, stop.signal, (kinds) =>
              // One line per relay, as `follow` prints events.
              io.stdout(`${JSON.stringify({ relayed: kinds })}\n`),
            ),
          );
        } finally {
          process.off('SIGINT', onSignal);
        }
      },
    );

  companionCommand
    .command('wearable-cards')
    .description('the payment applets on the wearable, default first, as its secure element reports them')
    .option(...wearableOption)
    .option(...stateOption)
    .option(...jsonOption)
    .action(async (options: { wearable?: string; state: string; json?: boolean }) => {
      const state = readState(options.state);
      pairedDevice(state, undefined);
      const cards = await withWearable(state, options.wearable, (phone, wearable) =>
        phone.wearableCards(wearable),
      );
      print(io, options.json, { cards });
    });
}
