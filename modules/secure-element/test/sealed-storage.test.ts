import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex, toHex } from '@amulet/bytes';
import { afterEach, describe, expect, it } from 'vitest';
import {
  fileBlobStore,
  fileCounter,
  loadSandboxCards,
  SecureElement,
  seal,
  tap,
  unseal,
} from '../src/index.ts';
import { DEVICE_KEY, rig, seededRng, UN } from './fixtures.ts';

const PPSE = fromHex('00A404000E325041592E5359532E444446303100');

describe('sealed storage', () => {
  it('seal/unseal round-trips, and every flipped byte is detected', () => {
    const plain = new TextEncoder().encode('{"tokens":[]}');
    const blob = seal(DEVICE_KEY, 7, plain, new Uint8Array(12).fill(3));
    expect(unseal(DEVICE_KEY, blob)).toEqual({ version: 7, plaintext: plain });
    for (let i = 0; i < blob.length; i++) {
      const bad = blob.slice();
      bad[i]! ^= 0x04;
      expect(() => unseal(DEVICE_KEY, bad), `byte ${i}`).toThrow(/sealed/);
    }
    const otherKey = DEVICE_KEY.slice();
    otherKey[0]! ^= 1;
    expect(() => unseal(otherKey, blob)).toThrow(/authentication/);
  });

  it('state survives a reopen: tokens, ATC and PIN tries', async () => {
    const r = rig();
    loadSandboxCards(r.se);
    r.se.enrollPin('2468');
    r.se.verifyPin('0000');
    await tap((a) => r.se.transmit(a), { amount: 5, unpredictableNumber: UN });
    const again = r.reopen();
    expect(again.tamper).toBeUndefined();
    expect(again.pinTriesLeft).toBe(4);
    expect(again.tokens()[0]?.atc).toBe(1);
    const next = await tap((a) => again.transmit(a), { amount: 5, unpredictableNumber: UN });
    expect(toHex(next.atc)).toBe('0002');
  });

  it('a flipped byte in the stored blob: tamper, and every APDU answers 6581', () => {
    const r = rig();
    loadSandboxCards(r.se);
    const blob = r.blobs.blob ?? new Uint8Array();
    blob[blob.length - 20]! ^= 0x01;
    const se = r.reopen();
    expect(se.tamper).toMatch(/authentication/);
    expect(toHex(se.transmit(PPSE))).toBe('6581');
    expect(() => se.verifyPin('1234')).toThrow(/tampered/);
  });

  it('an older copy put back (rollback of the PIN tries) is detected', () => {
    const r = rig();
    loadSandboxCards(r.se);
    r.se.enrollPin('2468');
    const old = r.blobs.blob?.slice();
    for (let i = 0; i < 4; i++) r.se.verifyPin('0000');
    r.blobs.blob = old;
    const se = r.reopen();
    expect(se.tamper).toMatch(/older/);
    expect(toHex(se.transmit(PPSE))).toBe('6581');
  });

  it('a removed blob after any save is tamper; a fresh device is not', () => {
    const r = rig();
    expect(r.se.tamper).toBeUndefined();
    loadSandboxCards(r.se);
    r.blobs.blob = undefined;
    expect(r.reopen().tamper).toMatch(/missing/);
  });

  it('a save interrupted before the counter moved is accepted and the counter catches up', () => {
    const r = rig();
    loadSandboxCards(r.se);
    const version = r.counter.read();
    const plain = unseal(DEVICE_KEY, r.blobs.blob ?? new Uint8Array()).plaintext;
    r.blobs.blob = seal(DEVICE_KEY, version + 1, plain, new Uint8Array(12));
    const se = r.reopen();
    expect(se.tamper).toBeUndefined();
    expect(r.counter.read()).toBe(version + 1);
  });

  describe('file persistence', () => {
    let dir = '';
    afterEach(() => {
      if (dir !== '') rmSync(dir, { recursive: true, force: true });
    });

    it('persists across instances and detects a rolled-back file', () => {
      dir = mkdtempSync(join(tmpdir(), 'amulet-se-'));
      const open = () =>
        SecureElement.open({
          deviceKey: DEVICE_KEY,
          rng: seededRng('file'),
          clock: () => 0,
          blobs: fileBlobStore(join(dir, 'se.sealed')),
          counter: fileCounter(join(dir, 'se.counter')),
        });
      const se = open();
      loadSandboxCards(se);
      const copy = readFileSync(join(dir, 'se.sealed'));
      se.setDefault('sandbox-mastercard-cvn17');
      expect(open().tokens()[0]?.id).toBe('sandbox-mastercard-cvn17');
      writeFileSync(join(dir, 'se.sealed'), copy);
      expect(open().tamper).toMatch(/older/);
    });
  });
});
