import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type CardEntry, encryptCardData, networkOf } from './card-encryption.ts';
import {
  type CommandIo,
  type CompanionState,
  client,
  digitsOption,
  idOption,
  jsonOption,
  print,
  readState,
  readStateIfAny,
  secretLine,
  stateOption,
  UsageError,
  urlOption,
  wallet,
  writeState,
} from './command-support.ts';
import { registerWearableSteps, withWearable } from './companion-wearable-command.ts';
import type { WalletCard } from './wallet-client.ts';

export type { CommandIo } from './command-support.ts';

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

/**
 * A card waiting for provisioning, when the paired wearable is known: the loader's APDUs are
 * relayed through it now (Companion.provision); otherwise the card is printed as it is and
 * `amulet companion provision` relays by hand.
 */
async function provisionIfPaired(state: CompanionState, card: WalletCard): Promise<WalletCard> {
  if (card.status !== 'provisioning' || state.wearable?.deviceId !== card.deviceId) return card;
  return withWearable(state, undefined, (phone, wearable) => phone.provision(card.id, wearable));
}

/**
 * `amulet companion ...` (registered by apps/cli): the phone app's steps on the command line,
 * against a running wallet and, for the steps that need it, a wearable's phone link
 * (`amulet wearable run --link-port`). The session is kept in a state file (mode 600);
 * passwords, PINs and card data come on stdin, never as arguments (which other users can read).
 * Every command takes --json (one JSON object on one line) and --help; bad input exits 2 with
 * one line.
 */
export function registerCompanion(program: Command, io: CommandIo): void {
  const companion = program
    .command('companion')
    .description(
      'the companion phone app: account, pairing, PIN, cards, default card, lost and found, notifications',
    );

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
      .option(...jsonOption)
      .action(
        async (options: { wallet: string; tenant: string; email: string; state: string; json?: boolean }) => {
          const base = urlOption(options.wallet);
          const tenant = idOption('--tenant', options.tenant);
          const password = await secretLine(io, 'the password');
          const c = client({ wallet: base, tenant });
          if (name === 'register') await wallet(() => c.register(options.email, password));
          const session = await wallet(() => c.login(options.email, password));
          // A wearable paired before with this wallet and tenant stays paired.
          const previous = readStateIfAny(options.state);
          const keep =
            previous?.wearable !== undefined && previous.wallet === base && previous.tenant === tenant
              ? { wearable: previous.wearable }
              : {};
          writeState(options.state, { wallet: base, tenant, session: session.session, ...keep });
          print(io, options.json, { loggedIn: true, expiresAt: session.expiresAt });
        },
      );
  }

  companion
    .command('devices')
    .description('list the paired wearables')
    .option(...stateOption)
    .option(...jsonOption)
    .action(async (options: { state: string; json?: boolean }) => {
      const c = client(readState(options.state));
      print(io, options.json, { devices: await wallet(() => c.devices()) });
    });

  companion
    .command('cards')
    .description('list the cards (last 4, network, status, default)')
    .option('--device <id>', 'only the cards of this wearable')
    .option(...stateOption)
    .option(...jsonOption)
    .action(async (options: { state: string; device?: string; json?: boolean }) => {
      const device = options.device === undefined ? undefined : idOption('--device', options.device);
      const c = client(readState(options.state));
      print(io, options.json, { cards: await wallet(() => c.cards(device)) });
    });

  companion
    .command('encrypt-card')
    .description('encrypt card data (JSON on stdin) as a JWE to the TSP key (a JWK file, or the wallet)')
    .option('--jwk <file>', "the TSP's public key as a JWK; else fetched through the wallet")
    .option(...stateOption)
    .option(...jsonOption)
    .action(async (options: { jwk?: string; state: string; json?: boolean }) => {
      const card = await cardFromStdin(io);
      let jwk: Record<string, string>;
      if (options.jwk !== undefined) {
        try {
          jwk = JSON.parse(readFileSync(options.jwk, 'utf8')) as Record<string, string>;
        } catch {
          throw new UsageError('--jwk file cannot be read as JSON');
        }
      } else jwk = await wallet(() => client(readState(options.state)).tspKey());
      print(io, options.json, { encryptedCard: await wallet(() => encryptCardData(card, jwk)) });
    });

  companion
    .command('add-card')
    .description(
      'digitize a card (JSON on stdin) for a wearable; --otp when the issuer steps up; provisioning goes through the paired wearable',
    )
    .requiredOption('--device <id>', 'the wearable')
    .option('--otp <code>', 'the one-time password the issuer sent')
    .option('--label <text>', 'label on the wearable')
    .option(...stateOption)
    .option(...jsonOption)
    .action(
      async (options: { device: string; otp?: string; label?: string; state: string; json?: boolean }) => {
        const device = idOption('--device', options.device);
        const otp = options.otp === undefined ? undefined : digitsOption('--otp', options.otp, 6, 8);
        const card = await cardFromStdin(io);
        const network = networkOf(card.pan);
        if (network === undefined) throw new UsageError('the card network is not known');
        const state = readState(options.state);
        const c = client(state);
        const encryptedCard = await wallet(async () => encryptCardData(card, await c.tspKey()));
        let added = await wallet(() =>
          c.digitize(device, {
            encryptedCard,
            network,
            ...(options.label === undefined ? {} : { label: options.label }),
          }),
        );
        if (added.status === 'pending-otp' && otp !== undefined)
          added = await wallet(() => c.otp(added.id, otp));
        print(io, options.json, { card: await wallet(() => provisionIfPaired(state, added)) });
      },
    );

  companion
    .command('otp')
    .description('enter the one-time password of a card waiting for step-up, then provision it')
    .requiredOption('--card <id>', 'the card')
    .requiredOption('--otp <code>', 'the code')
    .option(...stateOption)
    .option(...jsonOption)
    .action(async (options: { card: string; otp: string; state: string; json?: boolean }) => {
      const card = idOption('--card', options.card);
      const otp = digitsOption('--otp', options.otp, 6, 8);
      const state = readState(options.state);
      const stepped = await wallet(() => client(state).otp(card, otp));
      print(io, options.json, { card: await wallet(() => provisionIfPaired(state, stepped)) });
    });

  companion
    .command('provision')
    .description(
      "relay provisioning APDUs by hand: the wearable's responses in (hex), the loader's commands out",
    )
    .requiredOption('--card <id>', 'the card')
    .option('--response <hex...>', 'response APDUs from the wearable, in order')
    .option(...stateOption)
    .option(...jsonOption)
    .action(async (options: { card: string; response?: string[]; state: string; json?: boolean }) => {
      const card = idOption('--card', options.card);
      const responses = (options.response ?? []).map((r) => {
        if (!/^([0-9A-Fa-f]{2})*$/.test(r)) throw new UsageError('--response must be hexadecimal');
        return r.toUpperCase();
      });
      const c = client(readState(options.state));
      print(io, options.json, await wallet(() => c.provisioning(card, responses)));
    });

  /** A step on one card or one wearable (`--card` or `--device`), printing what it answers. */
  const onOne = (
    name: string,
    description: string,
    subject: 'card' | 'device',
    step: (c: ReturnType<typeof client>, id: string) => Promise<Record<string, unknown>>,
  ): void => {
    companion
      .command(name)
      .description(description)
      .requiredOption(`--${subject} <id>`, subject === 'card' ? 'the card' : 'the wearable')
      .option(...stateOption)
      .option(...jsonOption)
      .action(async (options: { card?: string; device?: string; state: string; json?: boolean }) => {
        const id = idOption(`--${subject}`, options[subject] ?? '');
        const c = client(readState(options.state));
        print(io, options.json, await wallet(() => step(c, id)));
      });
  };
  onOne(
    'default',
    'make a card the default for the next tap (the wearable hears it by push: see sync)',
    'card',
    async (c, card) => ({ card: await c.setDefault(card) }),
  );
  onOne(
    'lost',
    'report a wearable lost: every token is suspended at the TSP before this returns',
    'device',
    async (c, device) => ({ device: await c.lost(device) }),
  );
  onOne(
    'remove',
    'remove a card: its token is deleted at the TSP, its applet removal queued',
    'card',
    async (c, card) => {
      await c.remove(card);
      return { removed: card };
    },
  );
  onOne(
    'commands',
    'the commands waiting for a wearable (lock, unlock, default, delete, wipe)',
    'device',
    async (c, device) => ({ commands: await c.commands(device) }),
  );

  companion
    .command('follow')
    .description('print notifications (one JSON line each) until --count events or SIGINT')
    .option('--device <id>', "a wearable's channel instead of the account's")
    .option('--count <n>', 'stop after this many events')
    .option(...stateOption)
    .option(...jsonOption)
    .action(async (options: { device?: string; count?: string; state: string; json?: boolean }) => {
      const device = options.device === undefined ? undefined : idOption('--device', options.device);
      const limit =
        options.count === undefined
          ? Number.POSITIVE_INFINITY
          : Number(digitsOption('--count', options.count, 1, 6));
      const c = client(readState(options.state));
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      let seen = 0;
      try {
        await wallet(() =>
          c.follow(
            (event) => {
              // A stream of events is one JSON line per event, with or without --json.
              io.stdout(`${JSON.stringify({ type: event.type, data: event.data })}\n`);
              if (++seen >= limit) stop.abort();
            },
            stop.signal,
            device,
          ),
        );
      } finally {
        process.off('SIGINT', onSignal);
      }
    });

  registerWearableSteps(companion, io);
}
