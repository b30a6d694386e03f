import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { AmuletError } from '@amulet/bytes';
import { Companion } from './companion.ts';
import { CompanionError } from './companion-error.ts';
import { WalletClient } from './wallet-client.ts';

/** Where a command writes and reads (the amulet command line's `CliIo`). */
export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): Promise<string>;
}

/** Bad input: the amulet command line prints the message as one line and exits 2. */
export class UsageError extends AmuletError {
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}

/** The wearable paired from this phone: where its link is, and what to check when reconnecting. */
export interface PairedWearableState {
  /** The wearable's phone link (`amulet wearable run --link-port`), ws:// or wss://. */
  readonly url: string;
  readonly deviceId: string;
  /** Its device certificate (base64 DER), as verified at pairing. */
  readonly certificate: string;
  /** The root-of-trust certificates (base64 DER) and the OEM tenant of its device CA. */
  readonly trustAnchors: readonly string[];
  readonly oem: string;
}

/** The phone's state between commands, in a file of mode 600. */
export interface CompanionState {
  readonly wallet: string;
  readonly tenant: string;
  readonly session?: string;
  readonly wearable?: PairedWearableState;
}

export const STATE_DEFAULT = 'amulet-companion.json';
export const stateOption = ['--state <file>', 'where the session is kept (mode 600)', STATE_DEFAULT] as const;
export const jsonOption = ['--json', 'print one JSON object on one line'] as const;

export function readState(path: string): CompanionState {
  let state: CompanionState;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as CompanionState;
  } catch {
    throw new UsageError('no companion state: run `amulet companion login` first (or pass --state)');
  }
  if (typeof state?.wallet !== 'string' || typeof state.tenant !== 'string')
    throw new UsageError('--state file is not a companion state');
  return state;
}

/** The state as it is, or undefined when there is none yet (register and login start one). */
export function readStateIfAny(path: string): CompanionState | undefined {
  try {
    return readState(path);
  } catch {
    return undefined;
  }
}

export function writeState(path: string, state: CompanionState): void {
  writeFileSync(path, `${JSON.stringify(state)}\n`, { mode: 0o600 });
}

export function client(state: CompanionState): WalletClient {
  return new WalletClient({
    baseUrl: state.wallet,
    tenantId: state.tenant,
    newKey: () => randomUUID(),
    ...(state.session === undefined ? {} : { session: state.session }),
  });
}

/**
 * The companion for this state. Revocation: the phone has no OCSP client of its own here, so it
 * takes the chain as good and the wallet checks revocation when it registers the device or
 * verifies a "found" (docs/companion.md, "Command line").
 */
export function companion(
  state: CompanionState,
  trustAnchors: readonly Uint8Array[],
  oem: string,
): Companion {
  return new Companion({
    wallet: client(state),
    pairing: {
      trustAnchors,
      tenantId: oem,
      nowMs: () => Date.now(),
      revocation: () => 'good',
      random: (n) => new Uint8Array(randomBytes(n)),
    },
  });
}

export function idOption(name: string, value: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(value)) throw new UsageError(`${name} must be an identifier`);
  return value;
}

export function urlOption(value: string): string {
  if (!/^https?:\/\/[^\s]+$/.test(value)) throw new UsageError('--wallet must be an http(s) URL');
  return value;
}

export function wearableUrlOption(value: string): string {
  if (!/^wss?:\/\/[^\s]+$/.test(value)) throw new UsageError('--wearable must be a ws:// or wss:// URL');
  return value;
}

export function digitsOption(name: string, value: string, minLength: number, maxLength: number): string {
  if (!/^[0-9]+$/.test(value) || value.length < minLength || value.length > maxLength)
    throw new UsageError(`${name} must be ${minLength} to ${maxLength} decimal digits`);
  return value;
}

/** The first line of stdin, without its newline: a password or a PIN is read this way, never from argv. */
export async function secretLine(io: CommandIo, what: string): Promise<string> {
  const line = (await io.readStdin()).split('\n')[0]?.replace(/\r$/, '') ?? '';
  if (line.length === 0) throw new UsageError(`${what} is expected on stdin`);
  return line;
}

/** A PIN on stdin: 4 to 12 digits (the secure element's rule); the error never shows it. */
export async function pinLine(io: CommandIo): Promise<string> {
  const pin = await secretLine(io, 'the PIN');
  if (!/^[0-9]{4,12}$/.test(pin)) throw new UsageError('the PIN must be 4 to 12 digits');
  return pin;
}

/** Turns a wallet or wearable failure into one usage line (exit 2) with its code: no value is echoed. */
export async function wallet<T>(work: () => Promise<T>): Promise<T> {
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

/** Prints a result: one JSON line with --json, else `key: value` lines for a person. */
export function print(io: CommandIo, json: boolean | undefined, value: Record<string, unknown>): void {
  if (json === true) {
    io.stdout(`${JSON.stringify(value)}\n`);
    return;
  }
  const lines: string[] = [];
  const scalar = (v: unknown) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
  for (const [key, v] of Object.entries(value)) {
    if (Array.isArray(v)) {
      lines.push(`${key}: ${v.length}`);
      for (const item of v) lines.push(`  - ${scalar(item)}`);
    } else if (typeof v === 'object' && v !== null) {
      lines.push(`${key}:`);
      for (const [k, inner] of Object.entries(v)) lines.push(`  ${k}: ${scalar(inner)}`);
    } else lines.push(`${key}: ${scalar(v)}`);
  }
  io.stdout(`${lines.join('\n')}\n`);
}
