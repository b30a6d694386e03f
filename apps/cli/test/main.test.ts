import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers.ts';

describe('amulet', () => {
  it('prints help and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: amulet');
  });

  it('an unknown command exits 2 with one line and no stack trace', async () => {
    const result = await runCli(['no-such-command']);
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\bat .*:\d+:\d+/);
  });

  it('runs as a real process through its bin script', async () => {
    const bin = fileURLToPath(new URL('../bin/amulet.js', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [bin, '--version']);
    expect(stdout.trim()).toBe('0.1.0');
  });
});
