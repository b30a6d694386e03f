import { randomBytes } from 'node:crypto';
import { toHex } from '@amulet/bytes';
import { Field } from '@amulet/contracts';
import { deriveIccMasterKey } from '@amulet/emv';
import { getText } from '@amulet/iso8583';
import { type ConfirmationFields, generatePrivateScalar, type SecureElement } from '@amulet/secure-element';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProvisioningFailure, type RelayStep } from '../src/index.ts';
import {
  encryptCard,
  newWearable,
  provision,
  startTsp,
  TRID,
  type Tsp,
  tapRequest,
  testPki,
  VISA_IMK,
} from './harness.ts';
import { rogueSecureElement } from './rogue-secure-element.ts';

let serial = 0;
const PANS: string[] = [];
/** A fresh Luhn-valid Visa PAN under the test issuer's BIN 476173. */
function pan(): string {
  const body = `476173${String(900 + PANS.length).padStart(9, '0')}`;
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  const full = body + String((10 - (sum % 10)) % 10);
  PANS.push(full);
  return full;
}

let tsp: Tsp;
beforeAll(async () => {
  tsp = await startTsp('sqlite', 'provisioning');
});
afterAll(async () => {
  await tsp.close();
});

/** A wearable and a token bound to it, waiting for provisioning. */
async function pendingToken(wearable?: Awaited<ReturnType<typeof newWearable>>) {
  const w = wearable ?? (await newWearable(tsp, `SN-P${++serial}`));
  const outcome = await tsp.service.tokenize({
    requestorTrid: TRID,
    encryptedCard: await encryptCard(tsp, { pan: pan(), expiry: '3012' }),
    deviceCertificateChain: w.chain,
  });
  if (outcome.status !== 'provisioning') throw new Error(outcome.status);
  return { wearable: w, tokenId: outcome.token.tokenId };
}

/** A relay that records what crosses it, as the wallet and the phone would see it. */
function recordingRelay(se: SecureElement) {
  const commands: Uint8Array[] = [];
  const responses: Uint8Array[] = [];
  return {
    commands,
    responses,
    relay: (command: Uint8Array): Uint8Array => {
      commands.push(command.slice());
      const response = se.transmit(command);
      responses.push(response.slice());
      return response;
    },
  };
}

async function expectNotActive(tokenId: string, se: SecureElement): Promise<void> {
  const view = await tsp.service.getToken(tokenId);
  expect(view.status).toBe('inactive');
  expect(view.provisioning).toBe('failed');
  expect(se.tokens().map((t) => t.id)).not.toContain(tokenId);
  expect(tsp.provisioner.openSessions).toBe(0);
}

/** CLA and INS of a command APDU, as hex. */
const header = (command: Uint8Array): string => toHex(command.subarray(0, 2));

async function hsmSessionKeys(): Promise<string[]> {
  return (await tsp.hsm.listKeys()).map((k) => k.keyId).filter((id) => /^(icc|otk)_/.test(id));
}

describe('provisioning over SCP11a (GlobalPlatform Amendment F) onto a real secure element', () => {
  it('installs the token through the relay as bytes; the tap that follows is approved by the Authorizer', async () => {
    const { wearable, tokenId } = await pendingToken();
    const wire = recordingRelay(wearable.se);
    const step = await provision(tsp, tokenId, wearable.se, wire.relay);
    expect(step.state).toBe('confirmed');
    if (step.state !== 'confirmed') return;
    expect(step.token.status).toBe('active');
    expect((await tsp.service.getToken(tokenId)).provisioning).toBe('confirmed');
    // SELECT ISD, GET DATA BF21 and its GET RESPONSEs, PERFORM SECURITY OPERATION (two
    // certificates, each in two chained blocks), MUTUAL AUTHENTICATE, then wrapped (CLA 84):
    // GET STATUS, INSTALL [for install], INSTALL [for personalization], STORE DATA.
    expect(wire.commands.map(header)).toEqual([
      '00A4',
      '80CA',
      '00C0',
      '00C0',
      '00C0',
      '902A',
      '802A',
      '902A',
      '802A',
      '8082',
      '84F2',
      '84E6',
      '84E6',
      '84E2',
    ]);
    const [installed] = wearable.se.tokens();
    expect(installed).toMatchObject({ id: tokenId, profile: 'qvsdc', status: 'active' });
    // Nothing sensitive crossed the relay in clear: not the DPAN, the token id or MK-AC.
    const token = await tsp.handle.store.vault.getToken(tokenId);
    const card = await tsp.handle.store.cards.get(tokenId);
    if (token === undefined || card === undefined) throw new Error('no token');
    const mkAc = deriveIccMasterKey({ imk: VISA_IMK, pan: token.dpan, psn: card.psn, algorithm: 'tdes' });
    const traffic = [...wire.commands, ...wire.responses].map(toHex).join('|');
    expect(traffic).not.toContain(toHex(mkAc));
    expect(traffic).not.toContain(token.dpan);
    expect(traffic).not.toContain(toHex(new TextEncoder().encode(tokenId)));
    // The SE holds the key the HSM derived: its ARQC verifies under the issuer master key.
    const { request } = await tapRequest(wearable.se, token.tokenExpiry);
    const response = await tsp.authorizer.authorize(request);
    expect(getText(response, Field.responseCode)).toBe('00');
    expect(getText(response, Field.pan)).toBe(PANS.at(-1));
    // The session's keys are gone from the HSM and from the Provisioner.
    expect(await hsmSessionKeys()).toEqual([]);
    expect(tsp.provisioner.openSessions).toBe(0);
  });

  it('a tampered byte in any authenticated response fails the session; the token stays inactive', async () => {
    // Learn the exchange once, then replay it with one byte changed at each authenticated response.
    const probe = await pendingToken();
    const wire = recordingRelay(probe.wearable.se);
    expect((await provision(tsp, probe.tokenId, probe.wearable.se, wire.relay)).state).toBe('confirmed');
    const headers = wire.commands.map(header);
    // The ISD's FCI (response 0) is unauthenticated by design, and PERFORM SECURITY OPERATION
    // answers a bare status word; every other response carries data the host checks.
    const authenticated = wire.responses
      .map((response, i) => ({ i, length: response.length }))
      .filter(({ i, length }) => i > 0 && length > 2)
      .map(({ i }) => i);
    expect(authenticated.map((i) => headers[i])).toEqual([
      '80CA',
      '00C0',
      '00C0',
      '00C0',
      '8082',
      '84F2',
      '84E6',
      '84E6',
      '84E2',
    ]);
    // Where each response's last data byte sits in the certificate store (CAs first, then the
    // SE's own certificate): the device CA copy the SE sends is only a hint, since the TSP builds
    // the path from its configured device CA, so a change there is not a change of trust.
    let storeOffset = 0;
    const caCopyBytes = tsp.pki.deviceCa.der.length;
    const inCaCopy = new Set<number>();
    for (const [i, response] of wire.responses.entries()) {
      if (!['80CA', '00C0'].includes(headers[i] ?? '')) continue;
      storeOffset += response.length - 2;
      if (storeOffset - 1 < caCopyBytes) inCaCopy.add(i);
    }
    const targets = authenticated.filter((i) => !inCaCopy.has(i));
    expect(targets.length).toBeGreaterThanOrEqual(authenticated.length - 2);
    expect(targets.map((i) => headers[i])).toContain('00C0');
    for (const index of targets) {
      const { wearable, tokenId } = await pendingToken();
      let n = 0;
      const step = await provision(tsp, tokenId, wearable.se, (command) => {
        const response = wearable.se.transmit(command);
        if (n++ !== index) return response;
        const changed = response.slice();
        const at = changed.length - 3;
        changed[at] = (changed[at] ?? 0) ^ 0x01;
        return changed;
      });
      const kind = headers[index] ?? '';
      const expected = kind.startsWith('84')
        ? ProvisioningFailure.seResponse
        : kind === '8082'
          ? ProvisioningFailure.seAuthentication
          : ProvisioningFailure.seCertificate;
      expect([kind, step]).toEqual([kind, { state: 'failed', reason: expected }]);
      const view = await tsp.service.getToken(tokenId);
      expect([view.status, view.provisioning]).toEqual(['inactive', 'failed']);
      // Only a tampered answer to STORE DATA leaves the token on the SE (the SE did install it);
      // the TSP never saw an authentic confirmation, so the vault keeps it inactive.
      if (kind !== '84E2') expect(wearable.se.tokens()).toEqual([]);
    }
    expect(await hsmSessionKeys()).toEqual([]);
  });

  it('an SE certified by another CA, or another device than the token is bound to, is refused', async () => {
    const { wearable, tokenId } = await pendingToken();
    const otherPki = await testPki();
    const foreign = await newWearable(tsp, 'SN-FOREIGN', { pki: otherPki });
    expect(await provision(tsp, tokenId, foreign.se)).toEqual({
      state: 'failed',
      reason: ProvisioningFailure.seCertificate,
    });
    await expectNotActive(tokenId, foreign.se);
    const sibling = await newWearable(tsp, 'SN-SIBLING');
    expect(await provision(tsp, tokenId, sibling.se)).toEqual({
      state: 'failed',
      reason: ProvisioningFailure.seCertificate,
    });
    await expectNotActive(tokenId, sibling.se);
    // The right device still works afterwards.
    expect((await provision(tsp, tokenId, wearable.se)).state).toBe('confirmed');
  });

  it('a replayed session (the responses of an earlier one) fails at the key agreement', async () => {
    const first = await pendingToken();
    const wire = recordingRelay(first.wearable.se);
    expect((await provision(tsp, first.tokenId, first.wearable.se, wire.relay)).state).toBe('confirmed');
    // A second token for the same wearable; the relay answers with the recorded responses.
    const { tokenId } = await pendingToken(first.wearable);
    let n = 0;
    const step = await provision(
      tsp,
      tokenId,
      first.wearable.se,
      () => wire.responses[n++] ?? Uint8Array.of(0x6f, 0x00),
    );
    expect(step).toEqual({ state: 'failed', reason: ProvisioningFailure.seAuthentication });
    expect(n).toBe(wire.commands.map(header).indexOf('8082') + 1);
    const view = await tsp.service.getToken(tokenId);
    expect([view.status, view.provisioning]).toEqual(['inactive', 'failed']);
    expect(first.wearable.se.tokens().map((t) => t.id)).toEqual([first.tokenId]);
    // After the end, a relayed response has no session to go to.
    await expect(tsp.provisioner.relay(tokenId, Uint8Array.of(0x90, 0x00))).rejects.toMatchObject({
      code: 'ERR_TSP_STATE',
    });
  });

  it('a failed SE status ends the session: an error word to STORE DATA, and an SE that refuses the loader', async () => {
    const { wearable, tokenId } = await pendingToken();
    const step = await provision(tsp, tokenId, wearable.se, (command) => {
      const response = wearable.se.transmit(command);
      // ISO/IEC 7816-4 6A80 (incorrect data) in place of the answer to STORE DATA.
      return header(command) === '84E2' ? Uint8Array.of(0x6a, 0x80) : response;
    });
    expect(step).toEqual({ state: 'failed', reason: ProvisioningFailure.seStatus });
    expect((await tsp.service.getToken(tokenId)).status).toBe('inactive');
    // An SE whose OCE trust anchor is another root answers 6982 to the loader's certificate.
    const otherRoot = (await testPki()).root.der;
    const strict = await newWearable(tsp, 'SN-STRICT', { oceRoot: otherRoot });
    const second = await pendingToken(strict);
    expect(await provision(tsp, second.tokenId, strict.se)).toEqual({
      state: 'failed',
      reason: ProvisioningFailure.seRefusedLoader,
    });
    await expectNotActive(second.tokenId, strict.se);
  });

  it('bounded: a session times out, a command limit holds, a restart abandons the old session', async () => {
    const { wearable, tokenId } = await pendingToken();
    let step: RelayStep = await tsp.provisioner.start(tokenId);
    if (step.state !== 'command') throw new Error(step.state);
    step = await tsp.provisioner.relay(tokenId, wearable.se.transmit(step.command));
    if (step.state !== 'command') throw new Error(step.state);
    tsp.world.advance(120_001);
    expect(await tsp.provisioner.relay(tokenId, wearable.se.transmit(step.command))).toEqual({
      state: 'failed',
      reason: ProvisioningFailure.timeout,
    });
    await expectNotActive(tokenId, wearable.se);
    // The SE shows at most 16 printable ASCII characters: anything else is refused before a session.
    for (const label of ['', 'Ünïcode', 'A'.repeat(17)])
      await expect(tsp.provisioner.start(tokenId, undefined, label)).rejects.toMatchObject({
        code: 'ERR_TSP_INPUT',
      });
    expect(tsp.provisioner.openSessions).toBe(0);
    const limited = tsp.provisionerWith({ commandsMax: 4 });
    expect(await provision(tsp, tokenId, wearable.se, undefined, limited)).toEqual({
      state: 'failed',
      reason: ProvisioningFailure.limit,
    });
    // Start, go three commands in, start again: the first session is gone, the second confirms.
    step = await tsp.provisioner.start(tokenId);
    for (let i = 0; i < 3 && step.state === 'command'; i++)
      step = await tsp.provisioner.relay(tokenId, wearable.se.transmit(step.command));
    expect(tsp.provisioner.openSessions).toBe(1);
    expect((await provision(tsp, tokenId, wearable.se)).state).toBe('confirmed');
    expect(tsp.provisioner.openSessions).toBe(0);
    expect(await hsmSessionKeys()).toEqual([]);
    // An active token is not provisioned again.
    await expect(tsp.provisioner.start(tokenId)).rejects.toMatchObject({ code: 'ERR_TSP_STATE' });
  });

  it("a confirmation that is not the SE's own signature over this token, instance, action and session fails", async () => {
    const rng = (n: number) => new Uint8Array(randomBytes(n));
    type Lie = (honest: ConfirmationFields) => { fields: ConfirmationFields; key?: Uint8Array };
    const cases: [string, Lie, string][] = [
      ['honest (the control)', (h) => ({ fields: h }), 'confirmed'],
      ['another session', (h) => ({ fields: { ...h, receipt: h.receipt.map((b) => b ^ 0x01) } }), 'failed'],
      ['another token', (h) => ({ fields: { ...h, tokenId: 'tok_000000000000000000000000' } }), 'failed'],
      ['another action', (h) => ({ fields: { ...h, action: 'deleted' } }), 'failed'],
      [
        'another instance',
        (h) => ({ fields: { ...h, aid: Uint8Array.of(0xa0, 0, 0, 0, 3, 0x10, 0x10, 9) } }),
        'failed',
      ],
      ['another key', (h) => ({ fields: h, key: generatePrivateScalar(rng) }), 'failed'],
    ];
    for (const [name, lie, expected] of cases) {
      const rogue = rogueSecureElement(rng, lie);
      rogue.certificates = [
        await tsp.pki.deviceFor(rogue.spki, `SN-ROGUE-${++serial}`),
        tsp.pki.deviceCa.der,
      ];
      const outcome = await tsp.service.tokenize({
        requestorTrid: TRID,
        encryptedCard: await encryptCard(tsp, { pan: pan(), expiry: '3012' }),
        deviceCertificateChain: rogue.certificates,
      });
      if (outcome.status !== 'provisioning') throw new Error(outcome.status);
      const tokenId = outcome.token.tokenId;
      let step: RelayStep = await tsp.provisioner.start(tokenId);
      while (step.state === 'command')
        step = await tsp.provisioner.relay(tokenId, rogue.transmit(step.command));
      const view = await tsp.service.getToken(tokenId);
      if (expected === 'confirmed') {
        expect([name, step.state === 'failed' ? step.reason : step.state, view.status]).toEqual([
          name,
          'confirmed',
          'active',
        ]);
      } else {
        expect([name, step]).toEqual([name, { state: 'failed', reason: ProvisioningFailure.seConfirmation }]);
        expect([name, view.status, view.provisioning]).toEqual([name, 'inactive', 'failed']);
      }
    }
  });

  it('the audit record of a failure names the reason only: no DPAN, no key', async () => {
    const { tokenId } = await pendingToken();
    const foreign = await newWearable(tsp, 'SN-AUDIT', { pki: await testPki() });
    await provision(tsp, tokenId, foreign.se);
    const token = await tsp.handle.store.vault.getToken(tokenId);
    const entries = (await tsp.handle.store.audit.list(0, 100_000)).filter(
      (e) => e.action === 'provisioning.failed' && e.subject === tokenId,
    );
    expect(entries.map((e) => e.details)).toEqual([{ reason: ProvisioningFailure.seCertificate }]);
    expect(JSON.stringify(entries)).not.toContain(token?.dpan ?? 'no-dpan');
  });
});
