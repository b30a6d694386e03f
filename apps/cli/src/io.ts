import { AmuletError, fromHex, toHex } from '@amulet/bytes';

/** Where a command writes. Tests pass a recorder; the real command passes the process streams. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): Promise<string>;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

/** Bad input on the command line: exits 2 with the message as one line. */
export class UsageError extends AmuletError {
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}

/** `--json` output: exactly one JSON object on one line. Byte values are upper-case hex strings. */
export function printJson(io: CliIo, value: object): void {
  io.stdout(`${JSON.stringify(value, jsonBytes)}\n`);
}

function jsonBytes(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? toHex(value) : value;
}

/** Parses an option that must be hexadecimal; the error names the option, never the value. */
export function hexOption(name: string, value: string, lengths?: readonly number[]): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = fromHex(value.replace(/\s+/g, ''));
  } catch {
    throw new UsageError(`${name} must be hexadecimal with an even number of digits`);
  }
  if (lengths !== undefined && !lengths.includes(bytes.length)) {
    throw new UsageError(`${name} must be ${lengths.join(' or ')} bytes, got ${bytes.length}`);
  }
  return bytes;
}

/** Parses an option that must be decimal digits, with a length range. */
export function digitsOption(name: string, value: string, minLength = 1, maxLength = 19): string {
  if (!/^[0-9]+$/.test(value)) throw new UsageError(`${name} must be decimal digits`);
  if (value.length < minLength || value.length > maxLength) {
    const want = minLength === maxLength ? `${minLength}` : `${minLength} to ${maxLength}`;
    throw new UsageError(`${name} must be ${want} digits, got ${value.length}`);
  }
  return value;
}

/** Parses an option that must be one of a fixed set of words. */
export function choiceOption<T extends string>(name: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`${name} must be one of ${choices.join(', ')}`);
  }
  return value as T;
}
