import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addActiveCard,
  createTenant,
  type Harness,
  PAN_GREEN,
  pairDevice,
  type StoreHarness,
  sqliteHarness,
  startHarness,
  type TenantFixture,
} from '@amulet/wallet/testing';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCompanion } from '../src/index.ts';

const PASSWORD = 'a long enough password';

describe('amulet companion commands against a running wallet', () => {
  let db: StoreHarness;
  let h: Harness;
  let tenant: TenantFixture;
  let base: string;
  let dir: string;

  beforeAll(async () => {
    db = await sqliteHarness();
    h = await startHarness(db, { seed: 'cli' });
    tenant = await createTenant(h, 'acme');
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'amulet-companion-cli-'));
  });
  afterAll(async () => {
    await h?.close();
    await db?.teardown();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs one command in process, as `amulet` would (commander, our io); returns stdout and the error. */
  async function run(args: string[], stdin = '') {
    const out: string[] = [];
    const program = new Command('amulet').exitOverride();
    registerCompanion(program, {
      stdout: (s) => out.push(s),
      stderr: (s) => out.push(s),
      readStdin: async () => stdin,
    });
    let error: (Error & { code?: string }) | undefined;
    try {
      await program.parseAsync(['companion', ...args, '--state', join(dir, 'state.json')], { from: 'user' });
    } catch (e) {
      error = e as Error & { code?: string };
    }
    return { out: out.join(''), json: () => JSON.parse(out.join('')), error };
  }

  it('registers, lists, switches the default, reports lost, and keeps the session in a private file', async () => {
    const registered = await run(
      ['register', '--wallet', base, '--tenant', tenant.id, '--email', 'cli@example.com'],
      `${PASSWORD}\n`,
    );
    expect(registered.error).toBeUndefined();
    expect(registered.json().loggedIn).toBe(true);
    expect(statSync(join(dir, 'state.json')).mode & 0o777).toBe(0o600);
    expect((await run(['devices'])).json()).toEqual({ devices: [] });

    // The wearable's steps run through the library; here the test pairs one for this account.
    const session = readFileSync(join(dir, 'state.json'), 'utf8');
    const user = { tenant, id: '', email: 'cli@example.com', session: JSON.parse(session).session as string };
    const { id: deviceId } = await pairDevice(h, user);
    const first = await addActiveCard(h, user, deviceId, PAN_GREEN);
    const second = await addActiveCard(h, user, deviceId, PAN_GREEN);

    const cards = (await run(['cards', '--device', deviceId])).json().cards;
    expect(cards.map((c: { id: string }) => c.id).sort()).toEqual([first, second].sort());
    expect((await run(['default', '--card', second])).json().card).toMatchObject({
      id: second,
      isDefault: true,
    });
    expect(
      (await run(['commands', '--device', deviceId])).json().commands.map((c: { kind: string }) => c.kind),
    ).toEqual(['set-default']);
    expect((await run(['lost', '--device', deviceId])).json().device.state).toBe('lost');
    const jwe = (
      await run(['encrypt-card'], JSON.stringify({ pan: PAN_GREEN, expiry: '2912', cvv: '737' }))
    ).json();
    expect(jwe.encryptedCard.split('.')).toHaveLength(5);
    expect(jwe.encryptedCard).not.toContain(PAN_GREEN);
  });

  it('answers bad input and wallet refusals with one usage line and no card number', async () => {
    const refused = await run(['lost', '--device', 'dev_nope']);
    expect(refused.error).toMatchObject({
      code: 'ERR_USAGE',
      message: 'the wallet answered 404 ERR_NOT_FOUND',
    });
    const badCard = await run(
      ['add-card', '--device', 'dev_x'],
      JSON.stringify({ pan: '4111111111111112', expiry: '2912' }),
    );
    expect(badCard.error?.code).toBe('ERR_USAGE');
    expect(badCard.error?.message).not.toContain('4111');
    const badId = await run(['default', '--card', 'x/../y']);
    expect(badId.error?.message).toBe('--card must be an identifier');
    const wrongPassword = await run(
      ['login', '--wallet', base, '--tenant', tenant.id, '--email', 'cli@example.com'],
      'nope nope nope\n',
    );
    expect(wrongPassword.error?.message).toBe('the wallet answered 401 ERR_UNAUTHORIZED');
  });
});
