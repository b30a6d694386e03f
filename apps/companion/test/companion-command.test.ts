import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toPem } from '@amulet/pki';
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
  testPki,
} from '@amulet/wallet/testing';
import type { Wearable, WearableLinkServer } from '@amulet/wearable';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCompanion } from '../src/index.ts';
import { manufacture } from './wearable-fixture.ts';

const PASSWORD = 'a long enough password';

describe('amulet companion commands against a running wallet', () => {
  let db: StoreHarness;
  let h: Harness;
  let tenant: TenantFixture;
  let base: string;
  let dir: string;

  beforeAll(async () => {
    db = await sqliteHarness();
    h = await startHarness(db, { seed: 'cli', pki: await testPki() });
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

  /**
   * Runs one command in process, as `amulet` would (commander, our io), with --json unless told
   * otherwise; stdin may be computed when the command reads it. Returns stdout, stderr and the error.
   */
  async function run(
    args: string[],
    stdin: string | (() => string) = '',
    options: { json?: boolean; state?: string } = {},
  ) {
    const out: string[] = [];
    const err: string[] = [];
    const program = new Command('amulet').exitOverride();
    registerCompanion(program, {
      stdout: (s) => out.push(s),
      stderr: (s) => err.push(s),
      readStdin: async () => (typeof stdin === 'string' ? stdin : stdin()),
    });
    let error: (Error & { code?: string }) | undefined;
    const json = options.json === false ? [] : ['--json'];
    const state = join(dir, options.state ?? 'state.json');
    try {
      await program.parseAsync(['companion', ...args, ...json, '--state', state], { from: 'user' });
    } catch (e) {
      error = e as Error & { code?: string };
    }
    return { out: out.join(''), err: err.join(''), json: () => JSON.parse(out.join('')), error };
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
    expect((await run(['remove', '--card', first])).json()).toEqual({ removed: first });
    expect(
      (await run(['cards', '--device', deviceId])).json().cards.map((c: { id: string }) => c.id),
    ).toEqual([second]);
    expect((await run(['lost', '--device', deviceId])).json().device.state).toBe('lost');
    const jwe = (
      await run(['encrypt-card'], JSON.stringify({ pan: PAN_GREEN, expiry: '2912', cvv: '737' }))
    ).json();
    expect(jwe.encryptedCard.split('.')).toHaveLength(5);
    expect(jwe.encryptedCard).not.toContain(PAN_GREEN);
    // Without --json, lines for a person.
    const human = await run(['cards', '--device', deviceId], '', { json: false });
    expect(human.out.split('\n')[0]).toBe('cards: 1');
    expect(() => JSON.parse(human.out)).toThrow();
  });

  describe('with a real wearable on its phone link (WebSocket)', () => {
    const PIN = '582046';
    let band: Wearable;
    let server: WearableLinkServer;
    let rootPath: string;
    let deviceId: string;
    const state = 'wearer.json';
    const wear = (args: string[], stdin: string | (() => string) = '') => run(args, stdin, { state });

    beforeAll(async () => {
      band = await manufacture(h, 'acme', 'cli-band');
      server = await band.serveLink();
      rootPath = join(dir, 'root.pem');
      writeFileSync(rootPath, toPem('CERTIFICATE', h.pki.root.der));
      const registered = await wear(
        ['register', '--wallet', base, '--tenant', tenant.id, '--email', 'wearer@example.com'],
        `${PASSWORD}\n`,
      );
      expect(registered.error).toBeUndefined();
    });
    afterAll(async () => {
      await server?.close();
    });

    it('pairs (the user types the code the wearable shows), sets and re-enters the PIN, lists its cards', async () => {
      const mismatch = await wear(
        ['pair', '--wearable', server.url, '--root', rootPath, '--oem', 'acme'],
        () => (band.sas === '000000' ? '111111\n' : '000000\n'),
      );
      expect(mismatch.error?.message).toBe('the short codes on the phone and the wearable differ');
      expect((await wear(['devices'])).json()).toEqual({ devices: [] });

      const paired = await wear(
        ['pair', '--wearable', server.url, '--root', rootPath, '--oem', 'acme'],
        () => `${band.sas}\n`,
      );
      expect(paired.error).toBeUndefined();
      expect(paired.err).toContain(`pairing code on the phone: ${band.sas}`);
      deviceId = paired.json().device.id;
      expect(paired.json().device.state).toBe('active');
      expect(JSON.parse(readFileSync(join(dir, state), 'utf8')).wearable).toMatchObject({
        url: server.url,
        deviceId,
        oem: 'acme',
      });

      expect((await wear(['set-pin'], `${PIN}\n`)).json()).toEqual({ pin: 'enrolled' });
      expect(band.se.pinTriesLeft).toBe(5);
      const offWrist = await wear(['verify-pin'], `${PIN}\n`);
      expect(offWrist.error?.message).toBe('the wearable is not on the wrist');
      band.wristOn();
      const wrong = await wear(['verify-pin'], '000000\n');
      expect(wrong.error).toMatchObject({
        code: 'ERR_USAGE',
        message: 'the PIN was not verified: wrong, 4 tries left',
      });
      expect(band.se.pinTriesLeft).toBe(4);
      expect((await wear(['verify-pin'], `${PIN}\n`)).json()).toEqual({ pin: 'verified', triesLeft: 5 });
      const cards = (await wear(['wearable-cards'])).json().cards;
      expect(cards.map((c: { isDefault: boolean }) => c.isDefault)).toEqual([true, false, false]);
    });

    it('adds a card provisioned through the wearable, then lost, sync (the SE locks), found with the PIN', async () => {
      const added = await wear(
        ['add-card', '--device', deviceId],
        JSON.stringify({ pan: PAN_GREEN, expiry: '2912', cvv: '737' }),
      );
      expect(added.error).toBeUndefined();
      const reference = added.json().card.tokenReference as string;
      // The loader's APDUs went to the SE through the link, and the TSP saw the last answer.
      expect(h.tsp.tokens.get(reference)?.status).toBe('active');
      // The TSP tells the wallet (Standard Webhooks), as after every provisioning.
      const hook = h.tsp.webhook(
        'token.activated',
        reference,
        new Date(h.clock.ms + 1000),
        { status: 'active' },
        Math.floor(h.clock.ms / 1000),
      );
      await h.app.inject({
        method: 'POST',
        url: '/v1/webhooks/tsp',
        headers: hook.headers,
        payload: hook.body,
      });

      expect((await wear(['lost', '--device', deviceId])).json().device.state).toBe('lost');
      expect(h.tsp.tokens.get(reference)?.status).toBe('suspended');
      expect(band.se.tokens().map((t) => t.status)).toEqual(['active', 'active', 'active']);
      expect((await wear(['sync'])).json()).toEqual({ relayed: ['lock'] });
      expect(band.se.tokens().map((t) => t.status)).toEqual(['suspended', 'suspended', 'suspended']);
      expect((await wear(['sync'])).json()).toEqual({ relayed: [] });

      const refused = await wear(['found'], '000000\n');
      expect(refused.error?.message).toBe('the PIN was not verified');
      expect(refused.error?.message).not.toContain('000000');
      const found = await wear(['found', '--device', deviceId], `${PIN}\n`);
      expect(found.json().device.state).toBe('active');
      expect(h.tsp.tokens.get(reference)?.status).toBe('active');
      expect(band.se.tokens().map((t) => t.status)).toEqual(['active', 'active', 'active']);
    });

    it('answers bad input on the wearable steps with one line, and never echoes a PIN', async () => {
      const cases: [string[], string, string][] = [
        [
          ['pair', '--wearable', 'http://x', '--root', rootPath, '--oem', 'acme'],
          '',
          '--wearable must be a ws:// or wss:// URL',
        ],
        [
          ['pair', '--wearable', server.url, '--root', join(dir, 'nope.pem'), '--oem', 'acme'],
          '',
          '--root file cannot be read',
        ],
        [['set-pin'], '12ab\n', 'the PIN must be 4 to 12 digits'],
        [['set-pin'], '', 'the PIN is expected on stdin'],
        [
          ['found', '--device', 'dev_other'],
          `${PIN}\n`,
          '--device is not the wearable paired from this state',
        ],
        [['sync', '--wearable', 'ftp://x'], '', '--wearable must be a ws:// or wss:// URL'],
      ];
      for (const [args, stdin, message] of cases) {
        const result = await wear(args, stdin);
        expect(result.error).toMatchObject({ code: 'ERR_USAGE', message });
        expect(result.error?.message).not.toContain('12ab');
        expect(result.out).toBe('');
      }
      const unpaired = await run(['set-pin'], `${PIN}\n`, { state: 'state.json' });
      expect(unpaired.error?.message).toBe('no wearable is paired: run `amulet companion pair` first');
    });
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
