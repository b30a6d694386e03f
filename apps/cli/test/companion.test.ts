import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'amulet-cli-companion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const state = ['--state', join(dir, 'none.json')];

describe('amulet companion through the amulet program', () => {
  it('documents every step with --help, each with --json', async () => {
    const steps = [
      'register',
      'login',
      'pair',
      'set-pin',
      'verify-pin',
      'add-card',
      'otp',
      'default',
      'lost',
      'found',
      'remove',
      'sync',
      'follow',
      'wearable-cards',
    ];
    const overview = await runCli(['companion', '--help']);
    expect(overview.status).toBe(0);
    for (const step of steps) expect(overview.stdout).toContain(step);
    for (const step of steps) {
      const help = await runCli(['companion', step, '--help']);
      expect(help.status, step).toBe(0);
      expect(help.stdout, step).toContain('--json');
      expect(help.stdout, step).toContain('--state');
    }
  });

  it('exits 2 with one clear line on bad input', async () => {
    const cases: [string[], string, string][] = [
      [
        ['pair', '--wearable', 'http://x', '--root', 'r.pem', '--oem', 'acme'],
        '',
        '--wearable must be a ws:// or wss:// URL',
      ],
      [['pair', '--wearable', 'ws://127.0.0.1:9'], '', "required option '--root <file>' not specified"],
      [['set-pin'], '1234\n', 'no companion state: run `amulet companion login` first (or pass --state)'],
      [
        ['found', '--device', 'a/b'],
        '1234\n',
        'no companion state: run `amulet companion login` first (or pass --state)',
      ],
      [['default', '--card', 'x/../y'], '', '--card must be an identifier'],
      [['sync', '--bogus'], '', "unknown option '--bogus'"],
    ];
    for (const [args, stdin, line] of cases) {
      const result = await runCli(['companion', ...args, ...state], stdin);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(`amulet: ${line}\n`);
      expect(result.stderr).not.toContain('1234');
    }
  });
});
