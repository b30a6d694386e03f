import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    const again = fileTerminalJournal(file);
    expect(again.nextStan()).toBe(3);
    expect(again.pending().map((p) => [p.key, p.advice.mti, p.advice.fields.get(Field.stan)])).toEqual([
      ['k2', '0420', '000002'],
    ]);
  });

  it('goes from STAN 999 999 back to 1', () => {
    const file = journalFile();
    writeFileSync(file, JSON.stringify({ version: 1, stan: 999_998, reversals: {} }));
    const journal = fileTerminalJournal(file);
    expect([journal.nextStan(), journal.nextStan()]).toEqual([999_999, 1]);
  });

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
