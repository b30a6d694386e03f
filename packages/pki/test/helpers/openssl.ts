import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs the OpenSSL command line; returns stdout+stderr and the exit status. */
export function openssl(args: readonly string[], cwd: string): { status: number; output: string } {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  return { status: result.status ?? 1, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/** A scratch directory with a `write(name, text)` helper and a `remove()`. */
export function scratch(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    write(name: string, text: string | Uint8Array): string {
      writeFileSync(join(dir, name), text);
      return name;
    },
    remove(): void {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
