import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { AmuletError, fromHex, toHex } from '@amulet/bytes';
import { interchangeCodec } from '@amulet/contracts';
import type { Iso8583Message } from '@amulet/iso8583';

/**
 * What a terminal must not forget when it is switched off: the STAN it used last (field 11; an
 * authorization's key is the terminal, the STAN and the second it was sent, so a STAN used again
 * within the same second would be taken for a repeat of the first), and every reversal advice the
 * acquirer has not acknowledged (an approval the cashier never saw must not stand, even when the
 * acquirer was unreachable until after the terminal stopped). EMV terminals keep both in
 * non-volatile memory; `PosTerminal` uses it when given one.
 */
export interface TerminalJournal {
  /** The next STAN, 1 to 999 999, recorded before it is used. */
  nextStan(): number;
  /** Records a reversal advice before it is first sent (its key: the original's authorization key). */
  keep(key: string, advice: Iso8583Message): void;
  /** The acquirer acknowledged it. */
  forget(key: string): void;
  /** Every reversal advice not yet acknowledged, oldest first. */
  pending(): readonly { readonly key: string; readonly advice: Iso8583Message }[];
}

/** A journal file this terminal cannot use (ERR_TERMINAL_JOURNAL): not JSON, or not one it wrote. */
export class TerminalJournalError extends AmuletError {
  constructor(message: string) {
    super('ERR_TERMINAL_JOURNAL', message);
  }
}

interface JournalFile {
  readonly version: 1;
  stan: number;
  /** Authorization key -> the reversal advice, hex of its interchange encoding (a DPAN, never a PAN). */
  reversals: Record<string, string>;
}

/** A kept reversal: hex of an interchange message the codec reads back. */
function isStoredAdvice(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    interchangeCodec.decode(fromHex(value));
    return true;
  } catch {
    return false;
  }
}

/**
 * A terminal journal in one small JSON file, rewritten whole on each change through a temporary
 * file that is fsync'd and renamed over it (and the directory fsync'd), so a stop at any moment
 * leaves the old or the new content, never a mix. For one terminal process at a time.
 */
export function fileTerminalJournal(path: string): TerminalJournal {
  let state: JournalFile = { version: 1, stan: 0, reversals: {} };
  if (existsSync(path)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      throw new TerminalJournalError(`the terminal journal ${path} is not JSON`);
    }
    const file = parsed as Partial<JournalFile> | null;
    const stan = file?.stan;
    const reversals = file?.reversals;
    if (
      file?.version !== 1 ||
      stan === undefined ||
      !Number.isSafeInteger(stan) ||
      stan < 0 ||
      stan > 999_999 ||
      typeof reversals !== 'object' ||
      reversals === null ||
      Array.isArray(reversals) ||
      !Object.values(reversals).every(isStoredAdvice)
    )
      throw new TerminalJournalError(`the terminal journal ${path} is not one this terminal wrote`);
    state = { version: 1, stan, reversals: { ...reversals } };
  }
  const save = (): void => {
    const temporary = `${path}.tmp`;
    const fd = openSync(temporary, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(state)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
    // The rename itself reaches the disk with its directory.
    const directory = openSync(dirname(path), 'r');
    try {
      fsyncSync(directory);
    } finally {
      closeSync(directory);
    }
  };
  return {
    nextStan() {
      state.stan = (state.stan % 999_999) + 1;
      save();
      return state.stan;
    },
    keep(key, advice) {
      state.reversals[key] = toHex(interchangeCodec.encode(advice));
      save();
    },
    forget(key) {
      if (!Object.hasOwn(state.reversals, key)) return;
      delete state.reversals[key];
      save();
    },
    pending() {
      return Object.entries(state.reversals).map(([key, hex]) => ({
        key,
        advice: interchangeCodec.decode(fromHex(hex)),
      }));
    },
  };
}
