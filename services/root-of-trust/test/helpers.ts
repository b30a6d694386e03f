import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCsr, type NameFields, type Signer } from '@amulet/pki';
import { runKeyCeremony } from '../src/index.ts';

export function openssl(args: readonly string[], cwd: string): { status: number; output: string } {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  return { status: result.status ?? 1, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/**
 * The same, without blocking the event loop: needed whenever openssl talks to a server that runs in
 * this process (a synchronous spawn would wait on a server that can no longer answer). A timeout
 * turns a hang into a failure with openssl's output so far.
 */
export function opensslAsync(
  args: readonly string[],
  cwd: string,
  timeoutMs = 20_000,
): Promise<{ status: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? 1, output });
    });
  });
}

/** A root of trust in a fresh temporary directory. */
export async function freshRootOfTrust(tenantId = 'acme') {
  const dir = mkdtempSync(join(tmpdir(), 'amulet-rot-'));
  const masterKey = new Uint8Array(randomBytes(32));
  await runKeyCeremony({
    dir,
    masterKey,
    tenantId,
    organization: 'Amulet Test',
    rootCurve: 'P-256',
    now: new Date(),
  });
  return { dir, masterKey, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function deviceSigner(): Signer {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  return {
    algorithm: 'ES256',
    publicKeySpki: () => spki,
    sign: async (data) => new Uint8Array(sign('sha256', data, { key: privateKey, dsaEncoding: 'der' })),
  };
}

export async function deviceCsr(
  subject: NameFields = { organization: 'ACME', serialNumber: 'SN-0001', commonName: 'Band 2' },
) {
  return buildCsr(subject, deviceSigner());
}

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
