import type { CliIo } from '../io.ts';

/** What a step ended with: a one-line outcome, and facts a test or a script can check. */
export interface StepOutcome {
  readonly outcome: string;
  /** False when the step's result was not the one the story expects. */
  readonly ok?: boolean;
  readonly facts?: Readonly<Record<string, string | number | boolean>>;
}

export interface StepRecord extends Required<StepOutcome> {
  readonly step: number;
  readonly title: string;
  readonly ms: number;
}

/**
 * Tells a story step by step: each step prints its title, runs, and prints its outcome (as text,
 * or collected for one JSON object at the end with --json). A step that throws ends the story
 * with that step marked failed; the error's message is printed, never its stack.
 */
export class Narrator {
  readonly #io: CliIo;
  readonly #json: boolean;
  readonly #steps: StepRecord[] = [];
  readonly #now: () => number;

  constructor(io: CliIo, options: { readonly json: boolean; readonly now?: () => number }) {
    this.#io = io;
    this.#json = options.json;
    this.#now = options.now ?? (() => performance.now());
  }

  get steps(): readonly StepRecord[] {
    return this.#steps;
  }

  /** True when every step so far ended as the story expects. */
  get allOk(): boolean {
    return this.#steps.every((step) => step.ok);
  }

  say(text: string): void {
    if (!this.#json) this.#io.stdout(`${text}\n`);
  }

  async step(title: string, run: () => Promise<StepOutcome>): Promise<StepOutcome> {
    const number = this.#steps.length + 1;
    if (!this.#json) this.#io.stdout(`\n${String(number).padStart(2)}. ${title}\n`);
    const started = this.#now();
    try {
      const result = await run();
      const record: StepRecord = {
        step: number,
        title,
        outcome: result.outcome,
        ok: result.ok ?? true,
        facts: result.facts ?? {},
        ms: Math.round((this.#now() - started) * 10) / 10,
      };
      this.#steps.push(record);
      if (!this.#json) {
        const mark = record.ok ? 'ok' : 'UNEXPECTED';
        this.#io.stdout(`    -> ${record.outcome}  [${mark}]\n`);
      }
      return result;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#steps.push({
        step: number,
        title,
        outcome: `failed: ${message}`,
        ok: false,
        facts: {},
        ms: Math.round((this.#now() - started) * 10) / 10,
      });
      if (!this.#json) this.#io.stdout(`    -> failed: ${message}\n`);
      throw new StoryStopped(number, message);
    }
  }
}

/** Thrown when a step fails: the story cannot go on without it. */
export class StoryStopped extends Error {
  readonly step: number;
  constructor(step: number, message: string) {
    super(`step ${step} failed: ${message}`);
    this.name = 'StoryStopped';
    this.step = step;
  }
}
