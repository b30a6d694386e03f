import { encodeCommandApdu, getProcessingOptions, selectByName } from '@amulet/apdu';
import { fromHex, toHex } from '@amulet/bytes';
import { describe, expect, it } from 'vitest';
import { loadSandboxCards, PIN_TRIES, type TapResult, tap } from '../src/index.ts';
import { rig, UN } from './fixtures.ts';

const PPSE = fromHex('00A404000E325041592E5359532E444446303100');
const VISA = 'A0000000031010';
const MC = 'A0000000041010';

const ctqSaysCdcvm = (r: TapResult) => ((r.ctq?.[1] ?? 0) & 0x80) !== 0;
/** Visa CVN 18 CVR byte 4 b8 is IAD byte 7; M/Chip CVR byte 4 b8 is IAD byte 6. */
const cvrSaysCdcvm = (r: TapResult) => (((r.cvn === 17 ? r.iad[5] : r.iad[6]) ?? 0) & 0x80) !== 0;

describe('token lifecycle', () => {
  it('a suspended token answers 6985 to GPO with no cryptogram, and works again when resumed', async () => {
    const { se } = rig();
    loadSandboxCards(se);
    se.setTokenStatus('sandbox-visa-cvn18', 'suspended');
    expect(toHex(se.transmit(encodeCommandApdu(selectByName(fromHex(VISA))))).slice(-4)).toBe('9000');
    const gpo = se.transmit(encodeCommandApdu(getProcessingOptions(new Uint8Array(33))));
    expect(toHex(gpo)).toBe('6985');
    await expect(
      tap((a) => se.transmit(a), { amount: 1, unpredictableNumber: UN, aid: VISA }),
    ).rejects.toThrow(/6985/);
    se.setTokenStatus('sandbox-visa-cvn18', 'active');
    const result = await tap((a) => se.transmit(a), { amount: 1, unpredictableNumber: UN, aid: VISA });
    expect(toHex(result.atc)).toBe('0001'); // the refused GPO did not use an ATC
  });

  it('a suspended M/Chip token refuses GPO too', () => {
    const { se } = rig();
    loadSandboxCards(se);
    se.setTokenStatus('sandbox-mastercard-cvn17', 'suspended');
    se.transmit(encodeCommandApdu(selectByName(fromHex(MC))));
    expect(toHex(se.transmit(fromHex('80A8000002830000')))).toBe('6985');
  });

  it('a deleted token is gone from the PPSE and SELECT answers 6A82', () => {
    const { se } = rig();
    loadSandboxCards(se);
    se.setTokenStatus('sandbox-mastercard-cvn17', 'deleted');
    expect(toHex(se.transmit(PPSE))).not.toContain('A0000000041010');
    expect(toHex(se.transmit(encodeCommandApdu(selectByName(fromHex(MC)))))).toBe('6A82');
    expect(se.tokens().map((t) => t.id)).not.toContain('sandbox-mastercard-cvn17');
  });
});

describe("the wearer's PIN and CDCVM", () => {
  it('the try counter is saved decremented before the comparison (invariant 8)', () => {
    const r = rig();
    r.se.enrollPin('2468');
    // A blob store that records every save: the first save of a verify must already hold tries - 1.
    const saved: number[] = [];
    const write = r.blobs.write;
    const before = r.counter.read();
    r.blobs.write = (blob) => {
      write(blob);
      // Open the blob as it stands, as if power were cut right after this write.
      const probe = r.reopen();
      saved.push(probe.pinTriesLeft ?? -1);
    };
    expect(r.se.verifyPin('1111')).toEqual({ status: 'wrong', triesLeft: PIN_TRIES - 1 });
    expect(saved).toEqual([PIN_TRIES - 1]);
    saved.length = 0;
    expect(r.se.verifyPin('2468').status).toBe('verified');
    // First save: decremented (before comparing); second: reset after success.
    expect(saved).toEqual([PIN_TRIES - 2, PIN_TRIES]);
    expect(r.counter.read()).toBeGreaterThan(before);
  });

  it('at zero tries payments are blocked (6983) until re-enrollment', async () => {
    const { se } = rig();
    loadSandboxCards(se);
    se.enrollPin('2468');
    for (let i = PIN_TRIES - 1; i > 0; i--)
      expect(se.verifyPin('0000')).toEqual({ status: 'wrong', triesLeft: i });
    expect(se.verifyPin('0000')).toEqual({ status: 'blocked', triesLeft: 0 });
    expect(se.verifyPin('2468')).toEqual({ status: 'blocked', triesLeft: 0 });
    for (const aid of [VISA, MC]) {
      se.transmit(encodeCommandApdu(selectByName(fromHex(aid))));
      const body = aid === VISA ? `8321${'00'.repeat(33)}` : '8300';
      const gpo = se.transmit(fromHex(`80A80000${(body.length / 2).toString(16).padStart(2, '0')}${body}00`));
      expect(toHex(gpo)).toBe('6983');
    }
    se.enrollPin('1357');
    expect(se.verifyPin('1357').status).toBe('verified');
    await tap((a) => se.transmit(a), { amount: 1, unpredictableNumber: UN });
  });

  it('without a verified PIN the CTQ and CVR say no CDCVM; with one they say CDCVM', async () => {
    const { se } = rig();
    loadSandboxCards(se);
    se.enrollPin('2468');
    for (const aid of [VISA, MC]) {
      const plain = await tap((a) => se.transmit(a), { amount: 100, unpredictableNumber: UN, aid });
      expect(cvrSaysCdcvm(plain)).toBe(false);
      if (aid === VISA) expect(ctqSaysCdcvm(plain)).toBe(false);
    }
    se.verifyPin('2468');
    for (const aid of [VISA, MC]) {
      const verified = await tap((a) => se.transmit(a), { amount: 100, unpredictableNumber: UN, aid });
      expect(cvrSaysCdcvm(verified)).toBe(true);
      if (aid === VISA) expect(ctqSaysCdcvm(verified)).toBe(true);
    }
  });

  it('the session ends at the duration, the tap count, the amount, or a wrist-off', async () => {
    const policy = { durationMs: 60_000, maxTaps: 3, maxAmount: 1000 };
    const run = (r: ReturnType<typeof rig>, amount: number) =>
      tap((a) => r.se.transmit(a), { amount, unpredictableNumber: UN });
    const fresh = () => {
      const r = rig({ policy });
      loadSandboxCards(r.se);
      r.se.enrollPin('2468');
      r.se.verifyPin('2468');
      return r;
    };
    // Taps.
    let r = fresh();
    for (let i = 0; i < 3; i++) expect(ctqSaysCdcvm(await run(r, 10))).toBe(true);
    expect(ctqSaysCdcvm(await run(r, 10))).toBe(false);
    // Duration.
    r = fresh();
    r.now.ms += 60_001;
    expect(ctqSaysCdcvm(await run(r, 10))).toBe(false);
    // Cumulative amount: 600 fits, another 600 does not, 400 still does.
    r = fresh();
    expect(ctqSaysCdcvm(await run(r, 600))).toBe(true);
    expect(ctqSaysCdcvm(await run(r, 600))).toBe(false);
    expect(ctqSaysCdcvm(await run(r, 400))).toBe(true);
    // Wrist off.
    r = fresh();
    r.se.wristOff();
    expect(ctqSaysCdcvm(await run(r, 10))).toBe(false);
  });

  it('a wrong PIN ends an open session; PINs must be 4 to 12 digits', async () => {
    const r = rig();
    loadSandboxCards(r.se);
    const wearer = r.se.wearer;
    wearer.enrollPin('2468');
    expect(wearer.verifyPin('2468').status).toBe('verified');
    expect(wearer.verifyPin('9999')).toEqual({ status: 'wrong', triesLeft: PIN_TRIES - 1 });
    expect(wearer.pinTriesLeft).toBe(PIN_TRIES - 1);
    expect(ctqSaysCdcvm(await tap((a) => r.se.transmit(a), { amount: 1, unpredictableNumber: UN }))).toBe(
      false,
    );
    expect(() => r.se.enrollPin('12a4')).toThrow(/4 to 12 digits/);
  });
});

describe('limits and personalization', () => {
  it('an exhausted ATC makes no more cryptograms', () => {
    const { se } = rig();
    se.install({
      id: 'worn-out',
      profile: 'qvsdc',
      cvn: 18,
      label: 'OLD',
      pan: '4761739001010010',
      expiry: '301231',
      psn: '01',
      imk: fromHex('0123456789ABCDEFFEDCBA9876543210'),
      atc: 0xffff,
    });
    se.transmit(encodeCommandApdu(selectByName(fromHex(VISA))));
    expect(toHex(se.transmit(fromHex(`80A800002383210${'0'.repeat(65)}00`)))).toBe('6985');
  });

  it('a short Le smaller than the response answers 6CXX with the length available', () => {
    const { se } = rig();
    loadSandboxCards(se);
    const full = se.transmit(PPSE);
    const short = se.transmit(fromHex('00A404000E325041592E5359532E444446303110'));
    expect(toHex(short)).toBe(`6C${(full.length - 2).toString(16).toUpperCase().padStart(2, '0')}`);
  });

  it('refuses a wrong CVN for the profile, a duplicate id and a ninth applet', () => {
    const { se } = rig();
    const card = {
      id: 'a',
      profile: 'mchip' as const,
      cvn: 17 as const,
      label: 'X',
      pan: '5413330089010012',
      expiry: '301231',
      psn: '00',
      mkAc: new Uint8Array(16),
    };
    expect(() => se.install({ ...card, cvn: 18 })).toThrow(/cryptogram version/);
    se.install(card);
    expect(() => se.install(card)).toThrow(/already installed/);
    for (let i = 1; i < 8; i++) se.install({ ...card, id: `t${i}` });
    expect(se.tokens().map((t) => t.aid)).toContain('A000000004101007');
    expect(() => se.install({ ...card, id: 'ninth' })).toThrow(/at most 8/);
  });
});
