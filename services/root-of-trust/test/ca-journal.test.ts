import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority, readState } from '../src/index.ts';
import { deviceCsr, freshRootOfTrust } from './helpers.ts';

/**
 * The CA's record: state.json as written by the key ceremony, then one fsync'd line of
 * state.journal per issuance, revocation and CRL (docs/root-of-trust.md, "Files").
 */
let rot: Awaited<ReturnType<typeof freshRootOfTrust>>;
const statePath = () => join(rot.dir, 'state.json');
const journalLines = () => readFileSync(join(rot.dir, 'state.journal'), 'utf8').split('\n');

beforeAll(async () => {
  rot = await freshRootOfTrust();
});
afterAll(() => rot.remove());

describe('the CA journal', () => {
  it('records each issuance as one line and never rewrites state.json', async () => {
    const ca = CertificateAuthority.open({ dir: rot.dir, masterKey: rot.masterKey });
    const before = statSync(statePath());
    const serials: string[] = [];
    for (let i = 0; i < 20; i++)
      serials.push((await ca.issue({ profile: 'device', csr: await deviceCsr() })).serialHex);
    const after = statSync(statePath());
    expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
    const issued = journalLines()
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l))
      .filter((e) => e.op === 'issued');
    expect(issued.map((e) => e.serial)).toEqual(serials);
    // Another process (a fresh instance) reads the same state from snapshot and journal.
    const state = readState(statePath());
    for (const serial of serials) expect(state.issued[serial]?.ca).toBe('device-ca');
    expect(
      CertificateAuthority.open({ dir: rot.dir, masterKey: rot.masterKey }).status('device-ca', serials[3]!),
    ).toEqual({ status: 'good' });
  });

  it('skips a line a stopped process left unfinished, and the next line starts fresh', async () => {
    const ca = CertificateAuthority.open({ dir: rot.dir, masterKey: rot.masterKey });
    const count = Object.keys(readState(statePath()).issued).length;
    appendFileSync(join(rot.dir, 'state.journal'), '{"op":"issued","serial":"AB","rec');
    // Readers meanwhile take every complete line and leave the unfinished one.
    expect(Object.keys(readState(statePath()).issued)).toHaveLength(count);
    const next = await ca.issue({ profile: 'device', csr: await deviceCsr() });
    const lines = journalLines();
    expect(lines.at(-2)).toContain(`"serial":"${next.serialHex}"`);
    expect(lines.at(-3)).toBe('{"op":"issued","serial":"AB","rec');
    const state = readState(statePath());
    expect(Object.keys(state.issued)).toHaveLength(count + 1);
    expect(state.issued.AB).toBeUndefined();
    expect(state.issued[next.serialHex]?.profile).toBe('device');
  });

  it('two instances appending in turn see each other, revocations and CRL numbers included', async () => {
    const a = CertificateAuthority.open({ dir: rot.dir, masterKey: rot.masterKey });
    const b = CertificateAuthority.open({ dir: rot.dir, masterKey: rot.masterKey });
    const fromA = await a.issue({ profile: 'device', csr: await deviceCsr() });
    const fromB = await b.issue({ profile: 'device', csr: await deviceCsr() });
    await a.revoke(fromB.serialHex, 'keyCompromise');
    b.refresh();
    expect(b.status('device-ca', fromB.serialHex)).toMatchObject({
      status: 'revoked',
      reason: 'keyCompromise',
    });
    await expect(b.revoke(fromB.serialHex, 'unspecified')).rejects.toMatchObject({
      code: 'ERR_ALREADY_REVOKED',
    });
    await b.revoke(fromA.serialHex, 'superseded');
    a.refresh();
    expect(a.status('device-ca', fromA.serialHex)).toMatchObject({ status: 'revoked' });
    // Each revocation re-signed the device CA's CRL with the next number, whichever instance did it.
    const crls = journalLines()
      .filter((l) => l.startsWith('{"op":"crl"'))
      .map((l) => JSON.parse(l).number as number);
    expect(crls.slice(-2)[1]).toBe((crls.slice(-2)[0] ?? 0) + 1);
    expect(readState(statePath()).crlNumbers['device-ca']).toBe(crls.at(-1));
  });
});
