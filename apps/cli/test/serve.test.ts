import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openSqliteEngine, queryBuilder } from '@amulet/store';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startServe } from '../src/commands/serve.ts';
import { tapCommand } from '../src/commands/terminal.ts';

const dir = mkdtempSync(join(tmpdir(), 'amulet-serve-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function recorder() {
  let stdout = '';
  return {
    io: {
      stdout: (t: string) => {
        stdout += t;
      },
      stderr: () => undefined,
      readStdin: async () => '',
    },
    out: () => stdout,
  };
}

describe('amulet serve and amulet terminal tap', () => {
  it('serves every party on SQLite under the data directory, takes a tap over TCP, and shuts down cleanly', async () => {
    const served = await startServe({ dataDir: dir, port: 0, isoPort: 0, cardPort: 0 });
    let stopped = false;
    try {
      const { system } = served;
      expect((await fetch(`${system.httpUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${system.httpUrl}/readyz`)).status).toBe(200);
      expect((await fetch(`${system.httpUrl}/tsp/v1/jwe-key`)).status).toBe(200);
      expect((await fetch(`${system.httpUrl}/nowhere`)).status).toBe(404);
      expect(existsSync(join(dir, 'tsp.db'))).toBe(true);

      const r = recorder();
      const journal = join(dir, 'terminal.json');
      const code = await tapCommand(r.io, {
        amount: '12.34',
        host: system.acquirerEndpoint.host,
        port: system.acquirerEndpoint.port,
        card: served.card.url,
        json: true,
        journal,
      });
      const outcome = JSON.parse(r.out()) as { status: string; amount: number; responseCode?: string };
      expect(outcome).toMatchObject({ status: 'approved', amount: 1234, responseCode: '00' });
      expect(code).toBe(0);

      // Above the amount the issuer allows (credit limit 5,000.00): declined, exit 1.
      const declined = recorder();
      expect(
        await tapCommand(declined.io, {
          amount: '9000.00',
          host: system.acquirerEndpoint.host,
          port: system.acquirerEndpoint.port,
          card: served.card.url,
          json: true,
          journal,
        }),
      ).toBe(1);
      expect(JSON.parse(declined.out()).status).not.toBe('approved');
      // The terminal's journal: one STAN used (the second tap ended at the terminal, which asked
      // for the PIN on the phone), nothing left to reverse; a third, online, takes the next STAN.
      expect(JSON.parse(readFileSync(journal, 'utf8'))).toEqual({ version: 1, stan: 1, reversals: {} });
      const third = recorder();
      expect(
        await tapCommand(third.io, {
          amount: '2.00',
          host: system.acquirerEndpoint.host,
          port: system.acquirerEndpoint.port,
          card: served.card.url,
          journal,
        }),
      ).toBe(0);
      expect(JSON.parse(readFileSync(journal, 'utf8'))).toEqual({ version: 1, stan: 2, reversals: {} });

      await served.stop();
      stopped = true;
      await expect(fetch(`${system.httpUrl}/healthz`)).rejects.toThrow();
    } finally {
      if (!stopped) await served.stop();
    }

    // Idempotency-Keys a day old, webhook events a month old (all delivered by now) at the token
    // service and at the wallet, and sessions that ended: made so in the files while serve is
    // stopped; the next start's first sweep deletes them.
    const aged = [
      ['tsp.db', 'idempotency_keys', 'created_at'],
      ['tsp.db', 'webhook_events', 'created_at'],
      ['wallet.db', 'wallet_idempotency', 'created_at'],
      ['wallet.db', 'wallet_sessions', 'expires_at'],
      ['wallet.db', 'wallet_webhook_inbox', 'received_at'],
    ] as const;
    const rowsBefore2021 = async (backdate: boolean): Promise<number[]> => {
      const counts: number[] = [];
      for (const [file, table, column] of aged) {
        const engine = openSqliteEngine({ file: join(dir, file) });
        try {
          if (backdate)
            await engine.transaction((q) =>
              q.exec(`UPDATE ${table} SET ${column} = '2020-01-01T00:00:00.000Z'`),
            );
          const db = queryBuilder<Record<string, Record<string, string>>>('sqlite');
          const rows = await engine.read.all(
            db.selectFrom(table).select(column).where(column, '<', '2021').compile(),
          );
          counts.push(rows.length);
        } finally {
          await engine.close();
        }
      }
      return counts;
    };
    expect((await rowsBefore2021(true)).every((n) => n > 0)).toBe(true);

    // A second start on the same data directory reuses it (root of trust, keys, tenant) and works.
    const again = await startServe({ dataDir: dir, port: 0, isoPort: 0, cardPort: 0 });
    try {
      await vi.waitFor(async () => expect(await rowsBefore2021(false)).toEqual([0, 0, 0, 0, 0]), {
        timeout: 10_000,
        interval: 100,
      });
      const r = recorder();
      expect(
        await tapCommand(r.io, {
          amount: '1.00',
          host: again.system.acquirerEndpoint.host,
          port: again.system.acquirerEndpoint.port,
          card: again.card.url,
        }),
      ).toBe(0);
      expect(r.out()).toMatch(/^APPROVED/);
    } finally {
      await again.stop();
    }
  }, 60_000);

  it('a stop while taps are in flight loses nothing: every approval is in the batch and held, the ledger balances', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'amulet-serve-drain-'));
    const approved: number[] = [];
    const tap = async (served: Awaited<ReturnType<typeof startServe>>, amount: string) => {
      const r = recorder();
      try {
        await tapCommand(r.io, {
          amount,
          host: served.system.acquirerEndpoint.host,
          port: served.system.acquirerEndpoint.port,
          card: served.card.url,
          json: true,
        });
        const outcome = JSON.parse(r.out()) as { status: string; amount: number };
        if (outcome.status === 'approved') approved.push(outcome.amount);
        return outcome.status;
      } catch {
        // The connection closed before the tap had an answer: the cashier saw no approval.
        return 'no answer';
      }
    };
    try {
      // Three stops, each at another moment of the tap's journey: while the issuer decides (the
      // answer is on its way back), while the card is still being read, and a few ms in.
      const moments = ['issuer', 'card', 'soon'] as const;
      const outcomes: string[] = [];
      for (const [i, moment] of moments.entries()) {
        const served = await startServe({ dataDir, port: 0, isoPort: 0, cardPort: 0 });
        const seen = served.system.issuerLog.length;
        const pending = tap(served, `${i + 1}.2${i}`);
        if (moment === 'issuer')
          for (let n = 0; n < 500 && served.system.issuerLog.length === seen; n++)
            await new Promise((r) => setTimeout(r, 2));
        else if (moment === 'soon') await new Promise((r) => setTimeout(r, 15));
        const [outcome] = await Promise.all([pending, served.stop()]);
        outcomes.push(outcome);
      }
      // Stopped while the issuer was deciding: the answer was drained back to the terminal.
      expect(outcomes[0]).toBe('approved');

      const again = await startServe({ dataDir, port: 0, isoPort: 0, cardPort: 0 });
      try {
        // The reversal queue of the restarted acquirer finishes whatever a stop left unanswered.
        await again.system.acquirer.settled();
        const captures = await again.system.acquirer.closeBatch('drain-test');
        expect(captures.map((c) => c.amount).sort()).toEqual([...approved].sort());
        const ledger = await again.system.issuer.checkLedger();
        expect(ledger.sumMinor).toBe(0);
        expect(ledger.mismatchedAccounts).toEqual([]);
      } finally {
        await again.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('as a process: prints where it listens, and on SIGTERM drains, closes and exits 0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'amulet-serve-sigterm-'));
    try {
      const bin = resolve(import.meta.dirname, '../bin/amulet.js');
      const child = spawn(
        process.execPath,
        [bin, 'serve', '--data-dir', dataDir, '--port', '0', '--iso-port', '0', '--card-port', '0'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
      });
      const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
      for (let i = 0; i < 300 && !out.includes('Try in another shell'); i++)
        await new Promise((r) => setTimeout(r, 100));
      const url = /HTTP {8}(http:\/\/[0-9.:]+)/.exec(out)?.[1];
      expect(url).toBeDefined();
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('SIGTERM, draining and closing');
      expect(out).toContain('amulet serve: stopped');
      expect(existsSync(join(dataDir, 'setup.json'))).toBe(true);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
