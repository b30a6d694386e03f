import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
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
  /** Done with it: another terminal process may open it now (a file journal's lock). */
  close?(): void;
}

/**
 * A journal file this terminal cannot use (ERR_TERMINAL_JOURNAL): not JSON, not one it wrote, or
 * open in another terminal process.
 */
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

/** Whether a process with this id runs (one we may not signal runs too). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process id a lock file names, or undefined when it names none. */
function holderOf(lockPath: string): number | undefined {
  try {
    const pid = Number(readFileSync(lockPath, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes `<path>.lock` for this process, or throws when another running process holds it. The lock
 * file appears whole, with our process id in it (written to a file of our own, then hard-linked
 * to the lock's name, which fails if the name exists). A lock whose process no longer runs (one
 * killed mid-tap) is taken over: renamed away first, so that of two processes finding it only one
 * removes it. Returns the release.
 */
function lockJournal(path: string): () => void {
  const lockPath = `${path}.lock`;
  const mine = `${lockPath}.${process.pid}`;
  try {
    writeFileSync(mine, `${process.pid}\n`, { mode: 0o600 });
  } catch {
    throw new TerminalJournalError(
      `the terminal journal ${path} cannot be locked (is its directory writable?)`,
    );
  }
  try {
    for (let round = 0; round < 3; round++) {
      try {
        linkSync(mine, lockPath);
        return () => {
          if (holderOf(lockPath) === process.pid) rmSync(lockPath, { force: true });
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
          throw new TerminalJournalError(`the terminal journal ${path} cannot be locked`);
      }
      const holder = holderOf(lockPath);
      if (holder !== undefined && running(holder))
        throw new TerminalJournalError(
          `the terminal journal ${path} is in use by process ${holder} (if no terminal runs, remove ${lockPath})`,
        );
      const stale = `${lockPath}.stale.${process.pid}`;
      try {
        renameSync(lockPath, stale);
      } catch {
        continue; // another process took it over first: look again
      }
      if (holderOf(stale) !== holder) {
        // Not the stale lock we read: a live one just taken. Put it back (unless a third has one now).
        try {
          linkSync(stale, lockPath);
        } catch {
          // the name is taken again; the other process's own check stands
        }
      }
      rmSync(stale, { force: true });
    }
    throw new TerminalJournalError(`the terminal journal ${path} is in use by another process`);
  } finally {
    rmSync(mine, { force: true });
  }
}

/**
 * A terminal journal in one small JSON file, rewritten whole on each change through a temporary
 * file that is fsync'd and renamed over it (and the directory fsync'd), so a stop at any moment
 * leaves the old or the new content, never a mix. One terminal process at a time: the journal is
 * locked (`<path>.lock`, naming the process) until `close()`, and opening it while another running
 * process holds it throws `TerminalJournalError`.
 */
export function fileTerminalJournal(path: string): TerminalJournal {
  const unlock = lockJournal(path);
  try {
    return openJournal(path, unlock);
  } catch (error) {
    unlock();
    throw error;
  }
}

function openJournal(path: string, unlock: () => void): TerminalJournal {
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
  let open = true;
  const save = (): void => {
    if (!open) throw new TerminalJournalError(`the terminal journal ${path} was closed`);
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
    close() {
      if (!open) return;
      open = false;
      unlock();
    },
  };
}
