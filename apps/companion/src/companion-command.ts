import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { AmuletError } from '@amulet/bytes';
import type { Command } from 'commander';
import { type CardEntry, encryptCardData, networkOf } from './card-encryption.ts';
import { CompanionError } from './companion-error.ts';
import { WalletClient } from './wallet-client.ts';

/** Where a command writes and reads (the amulet command line's `CliIo`). */
export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): Promise<string>;
}

/** Bad input: the amulet command line prints the message as one line and exits 2. */
class UsageError extends AmuletError {
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}

function printJson(io: CommandIo, value: object): void {
  io.stdout(`${JSON.stringify(value)}\n`);
}

function digitsOption(name: string, value: string, minLength: number, maxLength: number): string {
  if (!/^[0-9]+$/.test(value) || value.length < minLength || value.length > maxLength)
    throw new UsageError(`${name} must be ${minLength} to ${maxLength} decimal digits`);
  return value;
}

/**
 * `amulet companion ...` (registered by apps/cli): the phone app's steps on the command line, against a running wallet.
 * The session is kept in a state file (mode 600); passwords and card data come on stdin, never
 * as arguments (which other users can read). Steps that need the wearable itself (pair, set-pin,
 * found) are in the library (`Companion`) and need a transport to a wearable.
 */
interface CompanionState {
  readonly wallet: string;
  readonly tenant: string;
  readonly session?: string;
}

const STATE_DEFAULT = 'amulet-companion.json';

function readState(path: string): CompanionState {
  let state: CompanionState;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as CompanionState;
  } catch {
    throw new UsageError('no companion state: run `amulet companion login` first (or pass --state)');
  }
  if (typeof state.wallet !== 'string' || typeof state.tenant !== 'string')
    throw new UsageError('--state file is not a companion state');
  return state;
}

function writeState(path: string, state: CompanionState): void {
  writeFileSync(path, `${JSON.stringify(state)}\n`, { mode: 0o600 });
}

function client(state: CompanionState): WalletClient {
  return new WalletClient({
    baseUrl: state.wallet,
    tenantId: state.tenant,
    newKey: () => randomUUID(),
    ...(state.session === undefined ? {} : { session: state.session }),
  });
}

function idOption(name: string, value: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(value)) throw new UsageError(`${name} must be an identifier`);
  return value;
}

function urlOption(value: string): string {
  if (!/^https?:\/\/[^\s]+$/.test(value)) throw new UsageError('--wallet must be an http(s) URL');
  return value;
}

/** The first line of stdin, without its newline: a password is read this way, never from argv. */
async function secretLine(io: CommandIo, what: string): Promise<string> {
  const line = (await io.readStdin()).split('\n')[0]?.replace(/\r$/, '') ?? '';
  if (line.length === 0) throw new UsageError(`${what} is expected on stdin`);
  return line;
}

/** Card data on stdin as JSON `{ "pan", "expiry" (YYMM), "cvv"? }`; errors never show it. */
async function cardFromStdin(io: CommandIo): Promise<CardEntry> {
  let value: unknown;
  try {
    value = JSON.parse(await io.readStdin());
  } catch {
    throw new UsageError('card data on stdin must be JSON {"pan","expiry","cvv"}');
  }
  const card = value as Partial<CardEntry> | null;
  if (
    typeof card?.pan !== 'string' ||
    typeof card.expiry !== 'string' ||
    (card.cvv !== undefined && typeof card.cvv !== 'string')
  )
    throw new UsageError('card data on stdin must be JSON {"pan","expiry","cvv"}');
  return { pan: card.pan, expiry: card.expiry, ...(card.cvv === undefined ? {} : { cvv: card.cvv }) };
}

/** Turns a wallet problem into one usage line (exit 2) with its code: no value is echoed. */
async function wallet<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CompanionError && error.problem !== undefined) {
      const reason = error.problem.reason === undefined ? '' : ` (${error.problem.reason})`;
      throw new UsageError(`the wallet answered ${error.problem.status} ${error.problem.code}${reason}`);
    }
    if (error instanceof CompanionError) throw new UsageError(error.message);
    if (error instanceof TypeError) throw new UsageError('the wallet cannot be reached');
    throw error;
  }
}

export function registerCompanion(program: Command, io: CommandIo): void {
  const companion = program
    .command('companion')
    .description('the companion phone app: account, cards, default card, lost and found, notifications');
  const stateOption = ['--state <file>', 'where the session is kept (mode 600)', STATE_DEFAULT] as const;

  for (const name of ['register', 'login'] as const) {
    companion
      .command(name)
      .description(
        name === 'register'
          ? 'create an account (password on stdin) and log in'
          : 'log in (password on stdin)',
      )
      .requiredOption('--wallet <url>', 'the wallet service base URL')
      .requiredOption('--tenant <id>', "the OEM tenant's id")
      .requiredOption('--email <email>', 'account email')
      .option(...stateOption)
      .action(async (options: { wallet: string; tenant: string; email: string; state: string }) => {
        const password = await secretLine(io, 'the password');
        const c = client({ wallet: urlOption(options.wallet), tenant: idOption('--tenant', options.tenant) });
        if (name === 'register') await wallet(() => c.register(options.email, password));
        const session = await wallet(() => c.login(options.email, password));
        writeState(options.state, {
          wallet: options.wallet,
          tenant: options.tenant,
          session: session.session,
        });
        printJson(io, { loggedIn: true, expiresAt: session.expiresAt });
      });
  }

  companion
    .command('devices')
    .description('list the paired wearables')
    .option(...stateOption)
    .action(async (options: { state: string }) => {
      const c = client(readState(options.state));
      printJson(io, { devices: await wallet(() => c.devices()) });
    });

  companion
    .command('cards')
    .description('list the cards (last 4, network, status, default)')
    .option('--device <id>', 'only the cards of this wearable')
    .option(...stateOption)
    .action(async (options: { state: string; device?: string }) => {
      const c = client(readState(options.state));
      const device = options.device === undefined ? undefined : idOption('--device', options.device);
      printJson(io, { cards: await wallet(() => c.cards(device)) });
    });

  companion
    .command('encrypt-card')
    .description('encrypt card data (JSON on stdin) as a JWE to the TSP key (a JWK file, or the wallet)')
    .option('--jwk <file>', "the TSP's public key as a JWK; else fetched through the wallet")
    .option(...stateOption)
    .action(async (options: { jwk?: string; state: string }) => {
      const card = await cardFromStdin(io);
      let jwk: Record<string, string>;
      if (options.jwk !== undefined) {
        try {
          jwk = JSON.parse(readFileSync(options.jwk, 'utf8')) as Record<string, string>;
        } catch {
          throw new UsageError('--jwk file cannot be read as JSON');
        }
      } else jwk = await wallet(() => client(readState(options.state)).tspKey());
      printJson(io, { encryptedCard: await wallet(() => encryptCardData(card, jwk)) });
    });

  companion
    .command('add-card')
    .description('digitize a card (JSON on stdin) for a wearable; --otp when the issuer steps up')
    .requiredOption('--device <id>', 'the wearable')
    .option('--otp <code>', 'the one-time password the issuer sent')
    .option('--label <text>', 'label on the wearable')
    .option(...stateOption)
    .action(async (options: { device: string; otp?: string; label?: string; state: string }) => {
      const card = await cardFromStdin(io);
      const network = networkOf(card.pan);
      if (network === undefined) throw new UsageError('the card network is not known');
      const c = client(readState(options.state));
      const encryptedCard = await wallet(async () => encryptCardData(card, await c.tspKey()));
      let added = await wallet(() =>
        c.digitize(idOption('--device', options.device), {
          encryptedCard,
          network,
          ...(options.label === undefined ? {} : { label: options.label }),
        }),
      );
      if (added.status === 'pending-otp' && options.otp !== undefined) {
        const otp = digitsOption('--otp', options.otp, 6, 8);
        added = await wallet(() => c.otp(added.id, otp));
      }
      printJson(io, { card: added });
    });

  companion
    .command('otp')
    .description('enter the one-time password of a card waiting for step-up')
    .requiredOption('--card <id>', 'the card')
    .requiredOption('--otp <code>', 'the code')
    .option(...stateOption)
    .action(async (options: { card: string; otp: string; state: string }) => {
      const c = client(readState(options.state));
      const otp = digitsOption('--otp', options.otp, 6, 8);
      printJson(io, { card: await wallet(() => c.otp(idOption('--card', options.card), otp)) });
    });

  companion
    .command('provision')
    .description("relay provisioning APDUs: the wearable's responses in (hex), the loader's commands out")
    .requiredOption('--card <id>', 'the card')
    .option('--response <hex...>', 'response APDUs from the wearable, in order')
    .option(...stateOption)
    .action(async (options: { card: string; response?: string[]; state: string }) => {
      const responses = (options.response ?? []).map((r) => {
        if (!/^([0-9A-Fa-f]{2})*$/.test(r)) throw new UsageError('--response must be hexadecimal');
        return r.toUpperCase();
      });
      const c = client(readState(options.state));
      printJson(io, await wallet(() => c.provisioning(idOption('--card', options.card), responses)));
    });

  companion
    .command('default')
    .description('make a card the default for the next tap')
    .requiredOption('--card <id>', 'the card')
    .option(...stateOption)
    .action(async (options: { card: string; state: string }) => {
      const c = client(readState(options.state));
      printJson(io, { card: await wallet(() => c.setDefault(idOption('--card', options.card))) });
    });

  companion
    .command('lost')
    .description('report a wearable lost: every token is suspended at the TSP before this returns')
    .requiredOption('--device <id>', 'the wearable')
    .option(...stateOption)
    .action(async (options: { device: string; state: string }) => {
      const c = client(readState(options.state));
      printJson(io, { device: await wallet(() => c.lost(idOption('--device', options.device))) });
    });

  companion
    .command('remove')
    .description('remove a card: its token is deleted at the TSP, its applet removal queued')
    .requiredOption('--card <id>', 'the card')
    .option(...stateOption)
    .action(async (options: { card: string; state: string }) => {
      const c = client(readState(options.state));
      await wallet(() => c.remove(idOption('--card', options.card)));
      printJson(io, { removed: options.card });
    });

  companion
    .command('commands')
    .description('the commands waiting for a wearable (lock, unlock, default, delete, wipe)')
    .requiredOption('--device <id>', 'the wearable')
    .option(...stateOption)
    .action(async (options: { device: string; state: string }) => {
      const c = client(readState(options.state));
      printJson(io, { commands: await wallet(() => c.commands(idOption('--device', options.device))) });
    });

  companion
    .command('follow')
    .description('print notifications (one JSON line each) until --count events or SIGINT')
    .option('--device <id>', "a wearable's channel instead of the account's")
    .option('--count <n>', 'stop after this many events')
    .option(...stateOption)
    .action(async (options: { device?: string; count?: string; state: string }) => {
      const c = client(readState(options.state));
      const limit =
        options.count === undefined
          ? Number.POSITIVE_INFINITY
          : Number(digitsOption('--count', options.count, 1, 6));
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      let seen = 0;
      try {
        await wallet(() =>
          c.follow(
            (event) => {
              io.stdout(`${JSON.stringify({ type: event.type, data: event.data })}\n`);
              if (++seen >= limit) stop.abort();
            },
            stop.signal,
            options.device === undefined ? undefined : idOption('--device', options.device),
          ),
        );
      } finally {
        process.off('SIGINT', onSignal);
      }
    });
}
