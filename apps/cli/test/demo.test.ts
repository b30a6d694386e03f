import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { luhnCheckDigit } from '@amulet/emv';
import { findClearPans, postgresConnectionDefaults } from '@amulet/store';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from '../src/commands/demo.ts';
import type { StepRecord } from '../src/demo/narrator.ts';
import { SETUP, type SystemStore } from '../src/system/system.ts';
import { runCli } from './helpers.ts';

/** What each step of the story must end with (status of the tap when the step taps). */
const expected: readonly [RegExp, Record<string, string | number | boolean>][] = [
  [/^Start every party/, {}],
  [/^Manufacture/, { chainValid: true }],
  [/^Pair/, { deviceState: 'active' }],
  [/^Set the PIN/, { triesLeft: 5 }],
  [/^Add a Visa/, { status: 'active', otpAsked: 0 }],
  [/^Add a Mastercard/, { status: 'active', otpAsked: 1 }],
  [/^Tap to pay/, { status: 'approved', amount: 1234, responseCode: '00' }],
  [/^Switch the default/, { status: 'approved', responseCode: '00' }],
  [/above the CVM limit/, { status: 'see-phone', reason: 'cvm-required', amount: 7500 }],
  [/^Re-enter the PIN/, { status: 'approved', amount: 7500 }],
  [/lost/, { status: 'declined', responseCode: '62' }],
  [/found/, { status: 'approved' }],
  [/reissues/, { status: 'approved', sameToken: true, oldCard: 'closed', issuerSawNewCard: true }],
];

function checkStory(steps: readonly StepRecord[]): void {
  expect(steps.map((s) => s.title)).toHaveLength(expected.length);
  for (const [i, [title, facts]] of expected.entries()) {
    const step = steps[i] as StepRecord;
    expect(step.title).toMatch(title);
    expect(step.ok, `step ${step.step}: ${step.outcome}`).toBe(true);
    expect(step.facts).toMatchObject(facts);
  }
  // The two taps before and after the switch used different tokens; the reissue kept the token.
  const last4 = (i: number) => steps[i]?.facts.last4;
  expect(last4(6)).not.toBe(last4(7));
  expect(last4(12)).toBe(last4(7));
}

/**
 * Clear card numbers of this system: Luhn-valid digit runs (the store's scanner) that start with
 * one of its issuer BINs (real PANs) or token BIN ranges (DPANs). The scanner alone also flags
 * runs of zeros and amounts in hex, which no card number of ours starts with.
 */
function clearCardNumbers(
  bytes: Uint8Array,
  prefixes: readonly string[] = [SETUP.issuerBins.visa, SETUP.issuerBins.mastercard, '4895', '5399'],
): string[] {
  return findClearPans(bytes)
    .map((hit) => hit.digits)
    .filter((digits) => prefixes.some((p) => digits.startsWith(p)));
}

function recorder() {
  let stdout = '';
  let stderr = '';
  return {
    io: {
      stdout: (t: string) => {
        stdout += t;
      },
      stderr: (t: string) => {
        stderr += t;
      },
      readStdin: async () => '',
    },
    out: () => stdout,
    err: () => stderr,
  };
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('amulet demo', () => {
  it('tells the whole story on SQLite, every outcome as expected, and the trace holds no clear card number', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amulet-demo-test-'));
    dirs.push(dir);
    const traceFile = join(dir, 'trace.jsonl');
    const result = await runCli(['demo', '--json', '--trace', traceFile, '--keep']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0] as string) as { ok: boolean; steps: StepRecord[]; dataDir: string };
    dirs.push(report.dataDir);
    expect(report.ok).toBe(true);
    checkStory(report.steps);

    const trace = readFileSync(traceFile);
    const entries = trace
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string });
    expect(entries.filter((e) => e.kind === 'apdu').length).toBeGreaterThan(20);
    expect(entries.filter((e) => e.kind === 'iso8583').length).toBeGreaterThanOrEqual(4 * 7);
    expect(clearCardNumbers(new Uint8Array(trace))).toEqual([]);
    expect(clearCardNumbers(new TextEncoder().encode(result.stdout))).toEqual([]);
    // The databases (with --keep): no real card number anywhere (DESIGN.md invariant 2), and the
    // wallet's holds no DPAN either (invariant 1).
    const files = readdirSync(report.dataDir).filter((f) => /\.db(-wal|-shm)?$/.test(f));
    expect(files).toEqual(expect.arrayContaining(['tsp.db', 'issuer.db', 'acquirer.db', 'wallet.db']));
    for (const file of files) {
      const bytes = new Uint8Array(readFileSync(join(report.dataDir, file)));
      expect(clearCardNumbers(bytes, [SETUP.issuerBins.visa, SETUP.issuerBins.mastercard]), file).toEqual([]);
      if (file.startsWith('wallet')) expect(clearCardNumbers(bytes), file).toEqual([]);
    }
    // The scanner does find card numbers in this kind of text: the check above can fail.
    const sample = `4012000000000${luhnCheckDigit('4012000000000')}`;
    expect(clearCardNumbers(new TextEncoder().encode(`{"pan":"${sample}"}`))).toEqual([sample]);
  }, 60_000);

  it('narrates as text, with last four digits only, and deletes its temporary data', async () => {
    const r = recorder();
    const result = await runDemo(r.io, {});
    expect(result.exitCode).toBe(0);
    expect(r.out()).toContain('All 13 steps ended as the story expects.');
    expect(r.out()).not.toMatch(/[0-9]{6,}\*|[0-9]{12,}/);
    expect(clearCardNumbers(new TextEncoder().encode(r.out()))).toEqual([]);
    expect(existsSync(result.dataDir)).toBe(false);
  }, 60_000);

  it('exits 1 and names the step when an outcome is not the one the story expects', async () => {
    // A terminal whose contactless limit is below the large amount: both large taps end with
    // "try another interface", which is not what the story expects of steps 9 and 10.
    const r = recorder();
    const result = await runDemo(r.io, { json: true, kernel: { contactlessTransactionLimit: 5000 } });
    expect(result.exitCode).toBe(1);
    const failed = result.narrator.steps.filter((s) => !s.ok);
    expect(failed.map((s) => s.step)).toEqual([9, 10]);
    expect(failed[0]?.facts).toMatchObject({ status: 'try-another-interface' });
    expect(r.err()).toContain('step 9 (Take the wearable off the wrist');
    expect(JSON.parse(r.out()).ok).toBe(false);
  }, 60_000);

  it('tells the same story on PostgreSQL (one database per party, created and dropped)', async () => {
    const { host, port, user } = postgresConnectionDefaults();
    const base = `amulet_demo_test_${randomBytes(5).toString('hex')}`;
    const databases = {
      tsp: `${base}_tsp`,
      issuer: `${base}_issuer`,
      acquirer: `${base}_acq`,
      network: `${base}_net`,
      wallet: `${base}_wallet`,
    };
    const admin = new pg.Client({ host, port, user, database: 'postgres' });
    await admin.connect();
    const dir = mkdtempSync(join(tmpdir(), 'amulet-demo-pg-'));
    dirs.push(dir);
    try {
      for (const db of Object.values(databases)) await admin.query(`CREATE DATABASE ${db}`);
      const store: SystemStore = { kind: 'postgres', host, port, user, databases };
      const r = recorder();
      const result = await runDemo(r.io, { json: true, store, dataDir: dir });
      expect(r.err()).toBe('');
      expect(result.exitCode).toBe(0);
      checkStory(result.narrator.steps);
      const tokens = new pg.Client({ host, port, user, database: databases.tsp });
      await tokens.connect();
      try {
        const { rows } = await tokens.query<{ n: string }>('SELECT count(*) AS n FROM tokens');
        expect(Number(rows[0]?.n)).toBe(2);
      } finally {
        await tokens.end();
      }
    } finally {
      for (const db of Object.values(databases))
        await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await admin.end();
    }
  }, 90_000);
});
