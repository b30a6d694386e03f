import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromPem, toPem } from '@amulet/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.ts';

const BIN = fileURLToPath(new URL('../bin/amulet.js', import.meta.url));

function openssl(args: readonly string[], cwd: string): { status: number; output: string } {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  return { status: result.status ?? 1, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/** openssl without blocking the event loop, with a timeout that turns a hang into a failure. */
function opensslAsync(args: readonly string[], cwd: string): Promise<{ status: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? 1, output });
    });
  });
}

function expectUsageError(result: { status: number; stdout: string; stderr: string }, text?: RegExp): void {
  expect(result.status).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\bat .*:\d+:\d+/);
  if (text !== undefined) expect(result.stderr).toMatch(text);
}

/** Starts `amulet ...args` as its own process; resolves with its URL once it says where it listens. */
function startServer(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
  return new Promise((resolve, reject) => {
    let said = '';
    const timer = setTimeout(() => reject(new Error(`no server: ${said}`)), 20_000);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      said += chunk;
      const match = /(http:\/\/127\.0\.0\.1:\d+)/.exec(said);
      if (match !== null) {
        clearTimeout(timer);
        resolve({ child, url: match[1]! });
      }
    });
    child.on('exit', () => reject(new Error(`server exited: ${said}`)));
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

let work: string;
let dir: string;
let deviceSerial: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'amulet-cli-rot-'));
  dir = join(work, 'rot');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('amulet rot', () => {
  it('init writes the hierarchy, its CRLs, the keystore and the state', async () => {
    const result = await runCli(['rot', 'init', '--dir', dir, '--tenant', 'acme', '--organization', 'ACME']);
    expect(result.status).toBe(0);
    const out = JSON.parse(result.stdout) as { files: string[] };
    for (const file of ['root.pem', 'device-ca.pem', 'service-ca.pem', 'device-ca.crl.pem', 'state.json']) {
      expect(out.files).toContain(file);
    }
    expect(result.stderr).toMatch(/demo master key/);
    expect(openssl(['verify', '-CAfile', 'root.pem', 'device-ca.pem', 'service-ca.pem'], dir).output).toBe(
      'device-ca.pem: OK\nservice-ca.pem: OK\n',
    );
  });

  it('init refuses a directory that already holds a root of trust', async () => {
    expectUsageError(await runCli(['rot', 'init', '--dir', dir]), /already holds/);
  });

  it('issue --profile device prints a certificate openssl verifies against the chain', async () => {
    const csr = join(work, 'band.csr');
    const made = await runCli([
      'rot',
      'csr',
      '--key-out',
      join(work, 'band.key'),
      '--subject',
      'CN=Band 2,O=ACME,serialNumber=SN-0042',
      '--out',
      csr,
    ]);
    expect(made.status).toBe(0);
    expect(openssl(['req', '-in', csr, '-noout', '-verify'], work).output).toMatch(/verify OK/i);
    const result = await runCli(['rot', 'issue', '--profile', 'device', '--csr', csr, '--dir', dir]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
    writeFileSync(join(dir, 'band.pem'), result.stdout);
    expect(
      openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'device-ca.pem', 'band.pem'], dir).output,
    ).toBe('band.pem: OK\n');
    const text = openssl(['x509', '-in', 'band.pem', '-noout', '-serial', '-subject'], dir).output;
    expect(text).toMatch(/serialNumber ?= ?SN-0042/);
    deviceSerial = /serial=([0-9A-F]+)/.exec(text)![1]!;
    // The certificate is bound to the key the device kept.
    const fromCert = openssl(['x509', '-in', 'band.pem', '-noout', '-pubkey'], dir).output;
    const fromKey = openssl(['pkey', '-in', join(work, 'band.key'), '-pubout'], dir).output;
    expect(fromCert).toBe(fromKey);
  });

  it('issue --profile service takes an openssl-made CSR and gives a TLS server certificate', async () => {
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'svc.key'], work);
    openssl(['req', '-new', '-key', 'svc.key', '-subj', '/O=Amulet/CN=tsp', '-out', 'svc.csr'], work);
    const result = await runCli([
      'rot',
      'issue',
      '--profile',
      'service',
      '--csr',
      join(work, 'svc.csr'),
      '--dir',
      dir,
      '--role',
      'tsp-loader',
      '--dns',
      'tsp.example',
    ]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    writeFileSync(join(dir, 'svc.pem'), result.stdout);
    expect(
      openssl(
        ['verify', '-purpose', 'sslserver', '-CAfile', 'root.pem', '-untrusted', 'service-ca.pem', 'svc.pem'],
        dir,
      ).output,
    ).toBe('svc.pem: OK\n');
  });

  it('issue refuses a CSR whose signature does not verify: exit 2, one line', async () => {
    const good = fromPem(readFileSync(join(work, 'band.csr'), 'utf8'), 'CERTIFICATE REQUEST');
    const bad = good.slice();
    bad[bad.length - 2]! ^= 0x40;
    writeFileSync(join(work, 'bad.csr'), toPem('CERTIFICATE REQUEST', bad));
    expect(openssl(['req', '-in', join(work, 'bad.csr'), '-noout', '-verify'], work).output).not.toMatch(
      /verify OK/i,
    );
    expectUsageError(
      await runCli(['rot', 'issue', '--profile', 'device', '--csr', join(work, 'bad.csr'), '--dir', dir]),
      /signature/i,
    );
  });

  it('issue: bad input exits 2 with one line', async () => {
    const csr = join(work, 'band.csr');
    expectUsageError(await runCli(['rot', 'issue', '--profile', 'router', '--csr', csr, '--dir', dir]));
    expectUsageError(
      await runCli(['rot', 'issue', '--profile', 'device', '--csr', join(work, 'none.csr'), '--dir', dir]),
    );
    writeFileSync(join(work, 'junk.csr'), 'not a certificate request\n');
    expectUsageError(
      await runCli(['rot', 'issue', '--profile', 'device', '--csr', join(work, 'junk.csr'), '--dir', dir]),
    );
    expectUsageError(
      await runCli(['rot', 'issue', '--profile', 'device', '--csr', csr, '--dir', join(work, 'nowhere')]),
    );
    expectUsageError(
      await runCli(['rot', 'issue', '--profile', 'device', '--csr', csr, '--dir', dir, '--se-type', 'magic']),
    );
    expectUsageError(await runCli(['rot', 'issue', '--profile', 'device', '--dir', dir]));
  });

  it('revoke: bad input exits 2 with one line', async () => {
    expectUsageError(await runCli(['rot', 'revoke', '--dir', dir, '--serial', 'XYZ']));
    expectUsageError(await runCli(['rot', 'revoke', '--dir', dir, '--serial', '0102030405']), /serial/);
    expectUsageError(
      await runCli(['rot', 'revoke', '--dir', dir, '--serial', deviceSerial, '--reason', 'boredom']),
    );
  });

  describe('ocsp, served by a separate amulet process', () => {
    let child: ChildProcess;
    let url: string;

    beforeAll(async () => {
      ({ child, url } = await startServer(['rot', 'ocsp', '--dir', dir, '--port', '0']));
    }, 30_000);

    afterAll(() => stopServer(child));

    const query = () =>
      opensslAsync(
        ['ocsp', '-issuer', 'device-ca.pem', '-cert', 'band.pem', '-url', url, '-CAfile', 'root.pem'],
        dir,
      );

    it('answers good, then revoked after `rot revoke`', async () => {
      const before = await query();
      expect(before.output).toContain('Response verify OK');
      expect(before.output).toContain('band.pem: good');

      const revoked = await runCli([
        'rot',
        'revoke',
        '--dir',
        dir,
        '--serial',
        deviceSerial,
        '--reason',
        'keyCompromise',
      ]);
      expect(revoked.status).toBe(0);
      expect(JSON.parse(revoked.stdout)).toEqual({
        serial: deviceSerial.replace(/^(00)+(?=.)/, ''),
        revoked: true,
        reason: 'keyCompromise',
      });

      const after = await query();
      expect(after.output).toContain('Response verify OK');
      expect(after.output).toContain('band.pem: revoked');
      expect(after.output).toContain('Reason: keyCompromise');
    }, 60_000);

    it('revoking twice exits 2 with one line', async () => {
      expectUsageError(await runCli(['rot', 'revoke', '--dir', dir, '--serial', deviceSerial]), /already/);
    });
  });

  describe('enroll-server, served by a separate amulet process', () => {
    const factory = 'factory-token-0123456789';
    let child: ChildProcess;
    let url: string;

    beforeAll(async () => {
      ({ child, url } = await startServer(['rot', 'enroll-server', '--dir', dir, '--port', '0'], {
        ...process.env,
        AMULET_FACTORY_TOKEN: factory,
      }));
    }, 30_000);

    afterAll(() => stopServer(child));

    it('refuses a request without the factory credential with a problem document', async () => {
      const csr = readFileSync(join(work, 'band.csr'), 'utf8');
      const response = await fetch(`${url}/enroll`, {
        method: 'POST',
        body: JSON.stringify({ profile: 'device', csr }),
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(((await response.json()) as { code: string }).code).toBe('ERR_UNAUTHORIZED');
    });

    it('enrolls a device with it; openssl verifies the answer', async () => {
      const csr = readFileSync(join(work, 'band.csr'), 'utf8');
      const response = await fetch(`${url}/enroll`, {
        method: 'POST',
        headers: { authorization: `Bearer ${factory}` },
        body: JSON.stringify({ profile: 'device', csr }),
      });
      expect(response.status).toBe(201);
      writeFileSync(join(dir, 'enrolled-chain.pem'), await response.text());
      expect(
        openssl(
          ['verify', '-CAfile', 'root.pem', '-untrusted', 'enrolled-chain.pem', 'enrolled-chain.pem'],
          dir,
        ).output,
      ).toBe('enrolled-chain.pem: OK\n');
    });
  });

  it('enroll-server without a credential in the environment exits 2 with one line', async () => {
    const saved = [process.env.AMULET_FACTORY_TOKEN, process.env.AMULET_OPERATOR_TOKEN];
    delete process.env.AMULET_FACTORY_TOKEN;
    delete process.env.AMULET_OPERATOR_TOKEN;
    try {
      expectUsageError(
        await runCli(['rot', 'enroll-server', '--dir', dir, '--port', '0']),
        /AMULET_FACTORY_TOKEN/,
      );
    } finally {
      if (saved[0] !== undefined) process.env.AMULET_FACTORY_TOKEN = saved[0];
      if (saved[1] !== undefined) process.env.AMULET_OPERATOR_TOKEN = saved[1];
    }
  });

  it('ocsp: a bad port exits 2 with one line', async () => {
    expectUsageError(await runCli(['rot', 'ocsp', '--dir', dir, '--port', '70000']));
    expectUsageError(await runCli(['rot', 'ocsp', '--dir', dir, '--port', 'http']));
  });

  it('a wrong master key exits 2 with one line', async () => {
    writeFileSync(join(work, 'wrong.key'), `${'11'.repeat(32)}\n`);
    expectUsageError(
      await runCli(['rot', 'crl', '--dir', dir, '--master-key-file', join(work, 'wrong.key')]),
      /master key/,
    );
  });
});
