import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex, toHex } from '@amulet/bytes';
import { fromPemAll, parseCertificate } from '@amulet/pki';
import { CertificateAuthority, createEnrollmentServer, runKeyCeremony } from '@amulet/root-of-trust';
import { loadSandboxCards, webSocketTransport } from '@amulet/secure-element';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { openWearableDir, registerSeCommands, registerWearableCommands } from '../src/index.ts';

/** Runs the commands as the amulet CLI registers them, recording what they print. */
async function run(args: string[]): Promise<{ stdout: string; stderr: string; error?: unknown }> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: (t: string) => {
      stdout += t;
    },
    stderr: (t: string) => {
      stderr += t;
    },
  };
  const program = new Command('amulet')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerSeCommands(program, io);
  registerWearableCommands(program, io);
  for (const c of program.commands) {
    c.exitOverride();
    for (const d of c.commands) d.exitOverride();
  }
  try {
    await program.parseAsync(args, { from: 'user' });
    return { stdout, stderr };
  } catch (error) {
    return { stdout, stderr, error };
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('amulet se and amulet wearable', () => {
  it('se apdu: each command and its response, card data masked', async () => {
    const { stdout, error } = await run([
      'se',
      'apdu',
      '00A4040007A000000003101000',
      '80A8000002830000',
      '00B2010C00',
    ]);
    expect(error).toBeUndefined();
    expect(stdout).toContain('> 00A4040007A000000003101000');
    expect(stdout).toContain('< SW 9000');
    expect(stdout).toContain('476173******0010');
    expect(stdout).not.toContain('4761739001010010');
  });

  it('se apdu --json reveals the exchanges as hex; bad hex is a usage error', async () => {
    const { stdout } = await run([
      'se',
      'apdu',
      '--json',
      '00A404000E325041592E5359532E444446303100',
      '0012',
    ]);
    const parsed = JSON.parse(stdout) as { exchanges: { command: string; response: string }[] };
    expect(parsed.exchanges[0]?.response.endsWith('9000')).toBe(true);
    expect(parsed.exchanges[1]?.response).toBe('6700');
    const bad = await run(['se', 'apdu', '00A4X']);
    expect(bad.error).toMatchObject({ code: 'ERR_USAGE' });
  });

  it('se ppse: the directory, default first', async () => {
    const { stdout } = await run(['se', 'ppse']);
    expect(stdout).toContain('< SW 9000');
    expect(stdout.indexOf('A0000000031010')).toBeLessThan(stdout.indexOf('A0000000041010'));
  });

  it('se ppse --connect talks to a wearable over WebSocket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amulet-wearable-'));
    dirs.push(dir);
    const device = openWearableDir(dir, false);
    loadSandboxCards(device.se, ['sandbox-mastercard-cvn17']);
    const server = await device.serveNfc();
    try {
      const { stdout } = await run(['se', 'ppse', '--connect', server.url]);
      expect(stdout).toContain('A0000000041010');
      expect(stdout).not.toContain('A0000000031010');
      const refused = await run(['se', 'ppse', '--connect', 'http://x']);
      expect(refused.error).toMatchObject({ code: 'ERR_USAGE' });
    } finally {
      await server.close();
    }
  });

  it('a wearable state directory keeps its cards and ATC across runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amulet-wearable-'));
    dirs.push(dir);
    const first = openWearableDir(dir, true);
    expect(first.se.tokens().length).toBe(3);
    const server = await first.serveNfc();
    const transport = await webSocketTransport(server.url);
    await transport.transmit(fromHex('00A4040007A000000003101000'));
    const pdol = '83' + '21' + '00'.repeat(33);
    const gpo = await transport.transmit(fromHex(`80A8000023${pdol}00`));
    expect(toHex(gpo.subarray(-2))).toBe('9000');
    await transport.close?.();
    await server.close();
    const second = openWearableDir(dir, true);
    expect(second.se.tokens().find((t) => t.id === 'sandbox-visa-cvn18')?.atc).toBe(1);
  });

  it('wearable run refuses a bad --vpcd or --port before serving', async () => {
    expect((await run(['wearable', 'run', '--vpcd', 'nohost'])).error).toMatchObject({ code: 'ERR_USAGE' });
    expect((await run(['wearable', 'run', '--port', '70000'])).error).toMatchObject({ code: 'ERR_USAGE' });
  });

  it('wearable manufacture enrolls with the root of trust over HTTP and stores the chain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amulet-rot-'));
    dirs.push(dir);
    const masterKey = new Uint8Array(randomBytes(32));
    await runKeyCeremony({
      dir: join(dir, 'ca'),
      masterKey,
      tenantId: 'acme',
      organization: 'ACME',
      rootCurve: 'P-256',
      now: new Date(),
    });
    const ca = CertificateAuthority.open({ dir: join(dir, 'ca'), masterKey });
    const server = createEnrollmentServer(ca, { factory: 'factory-secret-0123456789' });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/enroll`;
    const saved = process.env.AMULET_FACTORY_TOKEN;
    try {
      const args = [
        'wearable',
        'manufacture',
        '--state-dir',
        join(dir, 'band'),
        '--enroll-url',
        url,
        '--serial',
        'SN-42',
        '--oem',
        'ACME',
        '--model',
        'Band 2',
      ];
      delete process.env.AMULET_FACTORY_TOKEN;
      expect((await run(args)).error).toMatchObject({ code: 'ERR_USAGE' });
      process.env.AMULET_FACTORY_TOKEN = 'wrong-secret-0123456789';
      const refused = await run(args);
      expect(refused.error).toMatchObject({
        code: 'ERR_WEARABLE_ENROLL',
        message: 'enrollment refused: HTTP 401 ERR_UNAUTHORIZED',
      });
      process.env.AMULET_FACTORY_TOKEN = 'factory-secret-0123456789';
      // The refused attempt left a key but no certificate: a new identity needs a fresh SE.
      const again = await run([...args.slice(0, 3), join(dir, 'band2'), ...args.slice(4)]);
      expect(again.error).toBeUndefined();
      const chain = fromPemAll(again.stdout, 'CERTIFICATE');
      expect(chain.length).toBe(2);
      const device = openWearableDir(join(dir, 'band2'), false);
      expect(device.se.certificates().map(toHex)).toEqual(chain.map(toHex));
      const leaf = parseCertificate(chain[0] ?? new Uint8Array(0));
      expect(leaf.subject.serialNumber).toBe('SN-42');
      expect(leaf.deviceAttributes).toMatchObject({ oemId: 'ACME', model: 'Band 2', tenantId: 'acme' });
      expect(toHex(leaf.subjectPublicKeyInfo)).toBe(toHex(device.se.devicePublicKey ?? new Uint8Array(0)));
    } finally {
      if (saved === undefined) delete process.env.AMULET_FACTORY_TOKEN;
      else process.env.AMULET_FACTORY_TOKEN = saved;
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('wearable trace: a tap with tag names, masked', async () => {
    const { stdout } = await run(['wearable', 'trace', '--aid', 'A0000000041010', '--amount', '500']);
    expect(stdout).toContain('> GENERATE AC');
    expect(stdout).toContain('Application Cryptogram');
    expect(stdout).toContain('541333******0012');
    expect(stdout).not.toContain('5413330089010012');
    const bad = await run(['wearable', 'trace', '--amount', 'x']);
    expect(bad.error).toMatchObject({ code: 'ERR_USAGE' });
  });
});
