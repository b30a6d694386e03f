import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { interchangeCodec } from '@amulet/contracts';
import type { Iso8583Message } from '@amulet/iso8583';
import { type SeTransport, webSocketTransport } from '@amulet/secure-element';
import { type Engine, openSqliteEngine, queryBuilder } from '@amulet/store';
import { defaultKernelConfig, PosTerminal } from '@amulet/terminal';
import { createTcpTransport } from '@amulet/transport';
import { describe, expect, it } from 'vitest';
import { SERVE_TERMINAL_ID, startServe } from '../src/commands/serve.ts';
import { SETUP } from '../src/system/system.ts';

const bin = resolve(import.meta.dirname, '../bin/amulet.js');
const host = '127.0.0.1';

/** A port nothing listens on now (the kernel's pick for port 0, released at once). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, host, done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** `amulet serve` as its own process on fixed ports, resolved once it says where it listens. */
async function spawnServe(args: readonly string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [bin, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  for (let i = 0; i < 600 && !out.includes('Try in another shell'); i++) {
    if (child.exitCode !== null) throw new Error(`amulet serve exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!out.includes('Try in another shell')) throw new Error('amulet serve did not start');
  return child;
}

interface IssuerTables {
  issuer_accounts: { id: string; held_minor: number };
  issuer_authorizations: { id: string; state: string; held_minor: number };
}

describe('amulet serve killed and started again', () => {
  it('SIGKILL at four moments under taps, then a restart: every approval a terminal saw is in the batch and held once, every other authorization undone, the ledger balanced', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'amulet-serve-crash-'));
    const [httpPort, isoPort, cardPort] = [await freePort(), await freePort(), await freePort()];
    const args = ['--data-dir', dataDir, '--port', `${httpPort}`, '--iso-port', `${isoPort}`];
    args.push('--card-port', `${cardPort}`);
    // One terminal for the whole run, as in a shop: its connection to the acquirer comes back
    // after each restart, and its reversals of unanswered taps (0420) wait for it.
    const acquirer = createTcpTransport<Iso8583Message>({ codec: interchangeCodec }).connect(
      { host, port: isoPort },
      { reconnect: { initialDelayMs: 20, maxDelayMs: 200 } },
    );
    // Set to kill the process a few ms after the terminal sends its next 0100.
    let onSend: (() => void) | undefined;
    const wire = new Proxy(acquirer, {
      get(target, property) {
        if (property === 'request')
          return (message: Iso8583Message, options?: Parameters<typeof target.request>[1]) => {
            const answer = target.request(message, options);
            if (message.mti === '0100') onSend?.();
            return answer;
          };
        const value = Reflect.get(target, property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const terminal = new PosTerminal({
      identity: {
        terminalId: SERVE_TERMINAL_ID,
        merchantId: SETUP.merchantId,
        merchantNameLocation: 'AMULET CAFE',
      },
      kernel: defaultKernelConfig,
      acquirer: wire,
      now: () => new Date(),
      random: (n) => new Uint8Array(randomBytes(n)),
      firstStan: 1,
      responseTimeoutMs: 3_000,
      reversal: { intervalMs: 200, maxAttempts: 10_000 },
    });
    const seenApproved: number[] = [];
    let taps = 0;
    let unanswered = 0;
    // The issuer's database, read from here while it runs in the child (WAL: readers see commits).
    let issuerDb: Engine | undefined;
    try {
      // The kill lands at a different point of the tap's journey each time, on the third tap of a
      // run: as its 0100 leaves the terminal; as soon as the issuer's hold for it is committed
      // (seen in the issuer's database), so the approval is on its way back; 4 ms after it left;
      // and, in the last run, at a moment of the clock (mostly while a card is being read).
      type Kill = { afterSendMs: number } | { whenIssuerHolds: true } | { afterStartMs: number };
      const kills: Kill[] = [
        { afterSendMs: 0 },
        { whenIssuerHolds: true },
        { afterSendMs: 4 },
        { afterStartMs: 150 },
      ];
      const db = queryBuilder<IssuerTables>('sqlite');
      const authorizationsIn = async (state: string): Promise<number[]> => {
        issuerDb ??= openSqliteEngine({ file: join(dataDir, 'issuer.db') });
        const rows = await issuerDb.read.all<{ held_minor: number }>(
          db.selectFrom('issuer_authorizations').select('held_minor').where('state', '=', state).compile(),
        );
        return rows.map((row) => Number(row.held_minor));
      };
      let holdRuns = 0;
      for (const kill of kills) {
        const unansweredBefore = unanswered;
        const child = await spawnServe(args);
        const exited = new Promise<void>((done) => child.once('exit', () => done()));
        await acquirer.connected();
        const card: SeTransport = await webSocketTransport(`ws://${host}:${cardPort}`);
        const killNow = () => child.kill('SIGKILL');
        const timer = 'afterStartMs' in kill ? setTimeout(killNow, kill.afterStartMs) : undefined;
        for (let inCycle = 1; ; inCycle++) {
          if ('afterSendMs' in kill && inCycle === 3)
            onSend = () => {
              onSend = undefined;
              setTimeout(killNow, kill.afterSendMs);
            };
          if ('whenIssuerHolds' in kill && inCycle === 3) {
            const before = (await authorizationsIn('held')).length;
            onSend = () => {
              onSend = undefined;
              void (async () => {
                while ((await authorizationsIn('held')).length === before && child.exitCode === null)
                  await new Promise((r) => setImmediate(r));
                killNow();
              })();
            };
          }
          const amount = 101 + taps++;
          let report: Awaited<ReturnType<PosTerminal['tap']>>;
          try {
            report = await terminal.tap(card, amount);
          } catch {
            break; // the wearable's field went with the process mid-read: no 0100 was sent
          }
          const { status, reason } = report.outcome;
          if (status === 'approved') seenApproved.push(amount);
          else if (reason === 'no-response') {
            unanswered++; // sent, unanswered: the terminal reverses it (0420) until acknowledged
            break;
          } else if (reason === 'card-data')
            break; // the field went mid-read
          else throw new Error(`tap of ${amount}: ${status} (${reason})`);
        }
        clearTimeout(timer);
        onSend = undefined;
        await card.close?.().catch(() => undefined);
        await exited;
        // Should the approval have outrun the kill (a busy machine), that moment is tried again.
        if ('whenIssuerHolds' in kill && unanswered === unansweredBefore && ++holdRuns < 3)
          kills.push({ whenIssuerHolds: true });
      }

      // Started again in this process, on the same ports: the terminal's reversals land, the
      // acquirer's own queue reverses what it left pending, the network's kept advices go out.
      const served = await startServe({ dataDir, port: httpPort, isoPort, cardPort });
      let batch: number[] = [];
      try {
        await terminal.settled();
        await served.system.acquirer.settled();
        await served.system.network.settled();
        batch = (await served.system.acquirer.closeBatch('crash-test')).map((c) => c.amount);
        const ledger = await served.system.issuer.checkLedger();
        expect(ledger.sumMinor).toBe(0);
        expect(ledger.mismatchedAccounts).toEqual([]);
      } finally {
        await served.stop();
      }
      // At least the kill at the moment of sending left a tap unanswered.
      expect(unanswered).toBeGreaterThan(0);
      expect(seenApproved.length).toBeGreaterThanOrEqual(kills.length);
      // Exactly what the terminal saw approved is in the batch: an approval it never heard of was
      // reversed, and no approval it did hear of was.
      expect([...batch].sort((a, b) => a - b)).toEqual(seenApproved);

      // The issuer holds exactly those, once each; the approval killed on its way back was
      // released (read from its database, the process stopped).
      expect((await authorizationsIn('held')).sort((a, b) => a - b)).toEqual(seenApproved);
      expect((await authorizationsIn('reversed')).length).toBeGreaterThanOrEqual(1);
      const accounts = await issuerDb!.read.all<{ held_minor: number }>(
        db.selectFrom('issuer_accounts').select('held_minor').compile(),
      );
      expect(accounts.reduce((sum, a) => sum + Number(a.held_minor), 0)).toBe(
        seenApproved.reduce((sum, a) => sum + a, 0),
      );
    } finally {
      await issuerDb?.close();
      terminal.close();
      await acquirer.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
