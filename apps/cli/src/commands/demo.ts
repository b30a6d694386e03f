import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Narrator, StoryStopped } from '../demo/narrator.ts';
import { type StoryOptions, tellStory } from '../demo/story.ts';
import { Trace } from '../demo/trace.ts';
import { type CliIo, printJson } from '../io.ts';
import { buildSystem, type SystemStore } from '../system/system.ts';

export interface DemoOptions {
  readonly json?: boolean;
  readonly trace?: string;
  /** Keep the temporary data directory (databases, HSM keystores, root of trust). */
  readonly keep?: boolean;
  /** Default: SQLite files in a new temporary directory. */
  readonly store?: SystemStore;
  readonly dataDir?: string;
  /** The terminal's kernel settings, for tests of a story that does not go as expected. */
  readonly kernel?: StoryOptions['kernel'];
}

export interface DemoResult {
  readonly exitCode: number;
  readonly narrator: Narrator;
  readonly dataDir: string;
}

/** Runs the story of issue 8 on a fresh system; exit 0 only when every step ended as expected. */
export async function runDemo(io: CliIo, options: DemoOptions = {}): Promise<DemoResult> {
  const json = options.json === true;
  const narrator = new Narrator(io, { json });
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'amulet-demo-'));
  const trace = options.trace === undefined ? undefined : new Trace(options.trace);
  narrator.say('Amulet demo: every party in one process, on a temporary database.');
  let stopped: StoryStopped | undefined;
  let system: Awaited<ReturnType<typeof buildSystem>> | undefined;
  try {
    await narrator.step(
      'Start every party: root of trust, token service, issuer, network, acquirer, wallet',
      async () => {
        system = await buildSystem({
          store: options.store ?? { kind: 'sqlite' },
          dataDir,
          ...(trace ? { trace } : {}),
        });
        return {
          outcome: `HTTP on ${system.httpUrl} (wallet /wallet, token service /tsp), acquirer ISO 8583 on port ${system.acquirerEndpoint.port}`,
        };
      },
    );
    if (system !== undefined)
      await tellStory(system, narrator, options.kernel === undefined ? {} : { kernel: options.kernel });
  } catch (error) {
    if (!(error instanceof StoryStopped)) throw error;
    stopped = error;
  } finally {
    await system?.close();
    if (options.keep !== true && options.dataDir === undefined)
      rmSync(dataDir, { recursive: true, force: true });
  }
  const ok = stopped === undefined && narrator.allOk;
  const failed = narrator.steps.find((s) => !s.ok);
  if (json) {
    printJson(io, {
      ok,
      steps: narrator.steps,
      ...(options.trace === undefined ? {} : { trace: options.trace }),
      ...(options.keep === true ? { dataDir } : {}),
    });
  } else {
    narrator.say('');
    if (ok) narrator.say(`All ${narrator.steps.length} steps ended as the story expects.`);
    if (options.trace !== undefined) narrator.say(`Trace (APDUs and ISO 8583, masked): ${options.trace}`);
    if (options.keep === true) narrator.say(`Data kept in ${dataDir}`);
  }
  if (failed !== undefined)
    io.stderr(`amulet demo: step ${failed.step} (${failed.title}) did not end as expected\n`);
  return { exitCode: ok ? 0 : 1, narrator, dataDir };
}

export function registerDemo(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command('demo')
    .description(
      'Tell the whole story in one process: manufacture, pair, PIN, cards, taps, lost, found, reissue',
    )
    .option('--json', 'print one JSON object with each step and its outcome')
    .option('--trace <file>', 'write every APDU and ISO 8583 message, decoded and masked, as JSON lines')
    .option('--keep', 'keep the temporary data directory')
    .action(async (opts: { json?: boolean; trace?: string; keep?: boolean }) => {
      const result = await runDemo(io, opts);
      setExitCode(result.exitCode);
    });
}
