import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Field, interchangeSpec } from '@amulet/contracts';
import { createMessage, type Iso8583Message } from '@amulet/iso8583';
import { responseTo } from '@amulet/network';
import { afterEach, describe, expect, it } from 'vitest';
import {
  defaultKernelConfig,
  fileTerminalJournal,
  PosTerminal,
  type TerminalJournal,
  TerminalJournalError,
} from '../src/index.ts';
import { scriptedAcquirer } from './support/scripted-acquirer.ts';
import { seededBytes, wearable } from './support/wearable.ts';

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function journalFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'amulet-terminal-'));
  closers.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'terminal.json');
}

const advice = (stan: string) =>
  createMessage(
    interchangeSpec,
    '0420',
    new Map([
      [Field.pan, '4761739001010010'],
      [Field.stan, stan],
      [Field.terminalId, 'T0000001'],
    ]),
  );

describe('the terminal journal (a file)', () => {
  it('keeps the STAN and the unacknowledged reversals across reopenings', () => {
    const file = journalFile();
    const first = fileTerminalJournal(file);
    expect([first.nextStan(), first.nextStan()]).toEqual([1, 2]);
    first.keep('k1', advice('000001'));
    first.keep('k2', advice('000002'));
    first.forget('k1');
    first.forget('never-kept');
    first.close?.();
    const again = fileTerminalJournal(file);
    closers.push(() => again.close?.());
    expect(again.nextStan()).toBe(3);
    expect(again.pending().map((p) => [p.key, p.advice.mti, p.advice.fields.get(Field.stan)])).toEqual([
      ['k2', '0420', '000002'],
    ]);
  });

  it('goes from STAN 999 999 back to 1', () => {
    const file = journalFile();
    writeFileSync(file, JSON.stringify({ version: 1, stan: 999_998, reversals: {} }));
    const journal = fileTerminalJournal(file);
    closers.push(() => journal.close?.());
    expect([journal.nextStan(), journal.nextStan()]).toEqual([999_999, 1]);
  });

  it('is held by one terminal at a time: a second opening is refused until the first closes', () => {
    const file = journalFile();
    const first = fileTerminalJournal(file);
    expect(first.nextStan()).toBe(1);
    expect(readFileSync(`${file}.lock`, 'utf8').trim()).toBe(String(process.pid));
    expect(() => fileTerminalJournal(file)).toThrow(TerminalJournalError);
    expect(() => fileTerminalJournal(file)).toThrow(new RegExp(`in use by process ${process.pid}`));
    first.close?.();
    expect(existsSync(`${file}.lock`)).toBe(false);
    expect(() => first.nextStan()).toThrow(/was closed/);
    const second = fileTerminalJournal(file);
    expect(second.nextStan()).toBe(2);
    second.close?.();
    // Nothing of the lock is left beside the journal.
    expect(readdirSync(dirname(file))).toEqual(['terminal.json']);
  });

  it('refuses a lock held by another running process, and leaves it alone', () => {
    const file = journalFile();
    writeFileSync(`${file}.lock`, `${process.ppid}\n`);
    expect(() => fileTerminalJournal(file)).toThrow(new RegExp(`in use by process ${process.ppid}`));
    expect(readFileSync(`${file}.lock`, 'utf8')).toBe(`${process.ppid}\n`);
    expect(existsSync(file)).toBe(false);
  });

  it('takes over the lock of a terminal that stopped without closing (killed mid-tap)', () => {
    const file = journalFile();
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    writeFileSync(`${file}.lock`, `${gone.stdout}\n`);
    for (const leftover of ['', 'not a pid']) {
      const journal = fileTerminalJournal(file);
      expect(readFileSync(`${file}.lock`, 'utf8').trim()).toBe(String(process.pid));
      journal.close?.();
      writeFileSync(`${file}.lock`, leftover);
    }
  });

  it('refuses a journal whose directory it cannot write, as a journal error', () => {
    const file = join(journalFile(), 'no-such-directory', 'terminal.json');
    expect(() => fileTerminalJournal(file)).toThrow(/cannot be locked/);
  });

  it('terminals in several processes racing for one journal never take the same STAN', async () => {
    const file = journalFile();
    const script = join(dirname(file), 'racer.mts');
    const source = new URL('../src/terminal-journal.ts', import.meta.url).href;
    // Each process waits for the common start, then opens the journal (again while another holds
    // it), takes a STAN and closes it, 100 times.
    writeFileSync(
      script,
      `import { fileTerminalJournal } from ${JSON.stringify(source)};
const stans = [];
while (Date.now() < Number(process.argv[3])) {}
while (stans.length < 100) {
  let journal;
  try { journal = fileTerminalJournal(process.argv[2]); }
  catch (error) { if (/in use/.test(error.message)) { await new Promise((r) => setTimeout(r, 1)); continue; } throw error; }
  try { stans.push(journal.nextStan()); } finally { journal.close(); }
}
process.stdout.write(JSON.stringify(stans));
`,
    );
    const start = Date.now() + 2_000;
    const racer = () =>
      new Promise<number[]>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', script, file, String(start)], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
        child.on('exit', (code) =>
          code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(err)),
        );
      });
    const taken = (await Promise.all([racer(), racer(), racer()])).flat();
    expect(taken.toSorted((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(readdirSync(dirname(file)).toSorted()).toEqual(['racer.mts', 'terminal.json']);
  }, 30_000);

  it('refuses a file it did not write, naming the file', () => {
    const file = journalFile();
    writeFileSync(file, 'not json');
    expect(() => fileTerminalJournal(file)).toThrow(/terminal\.json is not JSON/);
    expect(() => fileTerminalJournal(file)).toThrow(TerminalJournalError);
    writeFileSync(file, JSON.stringify({ version: 2, stan: 1, reversals: {} }));
    expect(() => fileTerminalJournal(file)).toThrow(/not one this terminal wrote/);
    for (const wrong of [
      { version: 1, stan: 'x', reversals: {} },
      { version: 1, stan: -1, reversals: {} },
      { version: 1, stan: 1_000_000, reversals: {} },
      { version: 1, stan: 1, reversals: [] },
      { version: 1, stan: 1, reversals: { k: 'zz' } },
      { version: 1, stan: 1, reversals: { k: '0420' } },
    ]) {
      writeFileSync(file, JSON.stringify(wrong));
      expect(() => fileTerminalJournal(file)).toThrow(/not one this terminal wrote/);
    }
  });
});

describe('a terminal with a journal', () => {
  /** A terminal (one "run") against a scripted acquirer; each run opens the journal file anew. */
  async function run(file: string, answer: (m: Iso8583Message) => Iso8583Message | undefined) {
    const { client, seen, close } = await scriptedAcquirer(answer);
    const journal: TerminalJournal = fileTerminalJournal(file);
    const terminal = new PosTerminal({
      identity: { terminalId: 'T0000001', merchantId: 'MERCHANT000001', merchantNameLocation: 'AMULET CAFE' },
      kernel: defaultKernelConfig,
      acquirer: client,
      now: () => new Date(Date.UTC(2026, 11, 3, 9, 30, 15)),
      random: seededBytes(`pos-${file}`),
      responseTimeoutMs: 50,
      reversal: { intervalMs: 30, maxAttempts: 2 },
      journal,
    });
    closers.push(async () => {
      terminal.close();
      journal.close?.();
      await close();
    });
    return { terminal, seen, journal };
  }
  const acknowledge = (m: Iso8583Message) =>
    m.mti === '0100'
      ? responseTo(m, [2, 3, 4, 7, 11, 12, 13, 37, 41, 42, 49], {
          [Field.responseCode]: '00',
          [Field.authorizationIdResponse]: 'ABC123',
        })
      : responseTo(m, [2, 4, 7, 11, 41, 42], { [Field.responseCode]: '00' });

  it('a reversal given up on in one run is sent again, as 0421s, by the next; the STAN goes on', async () => {
    const file = journalFile();
    const w = wearable(['sandbox-visa-cvn18']);
    const first = await run(file, () => undefined); // the acquirer hears nothing
    const report = await first.terminal.tap(w.transport, 700);
    expect(report.outcome).toMatchObject({ status: 'declined', reason: 'no-response' });
    await first.terminal.settled(); // two attempts, both unanswered: given up
    expect(first.seen.map((m) => m.mti)).toEqual(['0100', '0420', '0421']);
    expect(first.journal.pending()).toHaveLength(1);
    // On disk, not only in this process: the file holds the STAN and that one reversal.
    const onDisk = JSON.parse(readFileSync(file, 'utf8')) as { stan: number; reversals: object };
    expect([onDisk.stan, Object.keys(onDisk.reversals).length]).toEqual([1, 1]);
    first.journal.close?.(); // the first run ends

    const second = await run(file, acknowledge);
    expect(second.terminal.resumeReversals()).toBe(1);
    expect(second.terminal.resumeReversals()).toBe(0); // already on its way
    await second.terminal.settled();
    expect(second.seen.map((m) => m.mti)).toEqual(['0421']);
    expect(second.seen[0]!.fields.get(Field.originalDataElements)).toBe(
      first.seen[1]!.fields.get(Field.originalDataElements),
    );
    expect(second.journal.pending()).toEqual([]);
    // The next tap takes the next STAN, not the first one again (same second, same terminal).
    expect((await second.terminal.tap(w.transport, 800)).outcome.status).toBe('approved');
    expect(second.seen[1]!.fields.get(Field.stan)).toBe('000002');
    expect(first.seen[0]!.fields.get(Field.stan)).toBe('000001');
  });
});
