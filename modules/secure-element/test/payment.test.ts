import { encodeCommandApdu, getProcessingOptions, selectByName } from '@amulet/apdu';
import { fromHex, toHex } from '@amulet/bytes';
import { computeCryptogram, verifyCryptogram } from '@amulet/emv';
import { decodeTlv, findTag } from '@amulet/tlv';
import { describe, expect, it } from 'vitest';
import { loadSandboxCards, sandboxCards, type TapResult, tap } from '../src/index.ts';
import { rig, UN } from './fixtures.ts';

function imkFor(result: TapResult): Uint8Array {
  const card = sandboxCards.find((c) => c.pan === result.pan);
  if (card === undefined) throw new Error('not a sandbox card');
  return card.imk;
}

function verify(result: TapResult, data = result.data, cryptogram = result.cryptogram): boolean {
  return verifyCryptogram({
    cvn: result.cvn,
    imk: imkFor(result),
    pan: result.pan,
    psn: result.psn,
    atc: result.atc,
    data,
    unpredictableNumber: UN,
    cryptogram,
  });
}

const loaded = () => {
  const r = rig();
  loadSandboxCards(r.se);
  return r;
};

describe('PPSE', () => {
  it('lists one entry per applet with real AIDs, default first, in priority order', () => {
    const { se } = loaded();
    const response = se.transmit(fromHex('00A404000E325041592E5359532E444446303100'));
    expect(toHex(response.subarray(-2))).toBe('9000');
    const nodes = decodeTlv(response.subarray(0, -2));
    expect(toHex(findTag(nodes, '84')?.value ?? new Uint8Array())).toBe(
      toHex(new TextEncoder().encode('2PAY.SYS.DDF01')),
    );
    const entries = findTag(nodes, 'BF0C')?.children ?? [];
    const aids = entries.map((e) => toHex(findTag(e.children ?? [], '4F')?.value ?? new Uint8Array()));
    const priorities = entries.map((e) => findTag(e.children ?? [], '87')?.value?.[0]);
    expect(aids).toEqual(['A0000000031010', 'A0000000041010', 'A000000003101001']);
    expect(priorities).toEqual([1, 2, 3]);
    se.setDefault('sandbox-mastercard-cvn17');
    const again = decodeTlv(se.transmit(fromHex('00A404000E325041592E5359532E444446303100')).subarray(0, -2));
    expect(toHex(findTag(again, '4F')?.value ?? new Uint8Array())).toBe('A0000000041010');
  });

  it('a partial AID selects the first match, P2=02 the next', () => {
    const { se } = loaded();
    const first = se.transmit(fromHex('00A4040007A000000003101000'));
    expect(toHex(findTag(decodeTlv(first.subarray(0, -2)), '84')?.value ?? new Uint8Array())).toBe(
      'A0000000031010',
    );
    const next = se.transmit(fromHex('00A4040207A000000003101000'));
    expect(toHex(findTag(decodeTlv(next.subarray(0, -2)), '84')?.value ?? new Uint8Array())).toBe(
      'A000000003101001',
    );
    expect(toHex(se.transmit(fromHex('00A4040207A000000003101000')))).toBe('6A82');
  });
});

describe('qVSDC profile', () => {
  it('SELECT gives an FCI with a PDOL asking for TTQ, amount, UN, currency, date, type and TVR', () => {
    const { se } = loaded();
    const response = se.transmit(encodeCommandApdu(selectByName(fromHex('A0000000031010'))));
    const pdol = toHex(findTag(decodeTlv(response.subarray(0, -2)), '9F38')?.value ?? new Uint8Array());
    for (const entry of ['9F6604', '9F0206', '9F3704', '5F2A02', '9A03', '9C01', '9505'])
      expect(pdol).toContain(entry);
  });

  for (const [aid, cvn] of [
    ['A0000000031010', 18],
    ['A000000003101001', 22],
  ] as const) {
    it(`CVN ${cvn}: GPO returns template 77 with a cryptogram that verifies, and any flipped byte fails`, async () => {
      const { se } = loaded();
      const result = await tap((a) => se.transmit(a), { amount: 2500, unpredictableNumber: UN, aid });
      expect(result.cvn).toBe(cvn);
      const gpo = result.exchanges[2]?.response ?? new Uint8Array();
      const nodes = decodeTlv(gpo.subarray(0, -2));
      expect(nodes[0]?.tag).toBe('77');
      for (const tag of ['82', '94', '57', '5F34', '9F10', '9F26', '9F27', '9F36', '9F6C'])
        expect(findTag(nodes, tag), tag).toBeDefined();
      expect(toHex(findTag(nodes, '57')?.value ?? new Uint8Array())).toMatch(/^4761739001010\d{3}D3012201/);
      expect(verify(result)).toBe(true);
      for (let i = 0; i < result.data.length; i++) {
        const data = result.data.slice();
        data[i]! ^= 0x01;
        expect(verify(result, data), `byte ${i}`).toBe(false);
      }
    });
  }

  it('the ATC increments per transaction and each cryptogram differs', async () => {
    const { se } = loaded();
    const a = await tap((x) => se.transmit(x), { amount: 100, unpredictableNumber: UN });
    const b = await tap((x) => se.transmit(x), { amount: 100, unpredictableNumber: UN });
    expect(toHex(a.atc)).toBe('0001');
    expect(toHex(b.atc)).toBe('0002');
    expect(toHex(a.cryptogram)).not.toBe(toHex(b.cryptogram));
    expect(verify(b)).toBe(true);
  });

  it('GPO with PDOL data of the wrong length answers 6700', () => {
    const { se } = loaded();
    se.transmit(encodeCommandApdu(selectByName(fromHex('A0000000031010'))));
    expect(toHex(se.transmit(encodeCommandApdu(getProcessingOptions(new Uint8Array(5)))))).toBe('6700');
  });
});

describe('M/Chip profile', () => {
  it('GPO gives AIP/AFL, the record holds 57, 5A, 5F24, 8C and 5F34, GENERATE AC verifies (CVN 17)', async () => {
    const { se } = loaded();
    const result = await tap((a) => se.transmit(a), {
      amount: 4200,
      unpredictableNumber: UN,
      aid: 'A0000000041010',
    });
    const record = decodeTlv((result.exchanges[3]?.response ?? new Uint8Array()).subarray(0, -2));
    for (const tag of ['57', '5A', '5F24', '8C', '5F34']) expect(findTag(record, tag), tag).toBeDefined();
    const ac = decodeTlv((result.exchanges[4]?.response ?? new Uint8Array()).subarray(0, -2));
    for (const tag of ['9F27', '9F36', '9F26', '9F10']) expect(findTag(ac, tag), tag).toBeDefined();
    expect(result.cvn).toBe(17);
    expect(verify(result)).toBe(true);
    for (let i = 0; i < result.data.length; i++) {
      const data = result.data.slice();
      data[i]! ^= 0x80;
      expect(verify(result, data), `byte ${i}`).toBe(false);
    }
    // The Mastercard session key covers the UN: another UN does not verify.
    expect(
      verifyCryptogram({
        cvn: 17,
        imk: imkFor(result),
        pan: result.pan,
        psn: result.psn,
        atc: result.atc,
        data: result.data,
        unpredictableNumber: fromHex('01020305'),
        cryptogram: result.cryptogram,
      }),
    ).toBe(false);
  });

  it('GENERATE AC before GPO, or twice, answers 6985', async () => {
    const { se } = loaded();
    se.transmit(encodeCommandApdu(selectByName(fromHex('A0000000041010'))));
    // CDOL1 asks for 33 bytes (0x21).
    const generate = fromHex(`80AE800021${'00'.repeat(33)}00`);
    expect(toHex(se.transmit(generate))).toBe('6985');
    await tap((a) => se.transmit(a), { amount: 1, unpredictableNumber: UN, aid: 'A0000000041010' });
    expect(toHex(se.transmit(generate))).toBe('6985');
  });
});

describe('covered data', () => {
  it('is amount, other amount, country, TVR, currency, date, type, UN as the terminal sent them, then AIP, ATC, CVR', async () => {
    const { se } = loaded();
    const visa = await tap((a) => se.transmit(a), {
      amount: 2500,
      unpredictableNumber: UN,
      aid: 'A0000000031010',
    });
    expect(toHex(visa.data)).toBe(
      `000000002500${'00'.repeat(6)}0250${'00'.repeat(5)}0978261123000102030400800001${toHex(visa.iad)}`,
    );
    const mc = await tap((a) => se.transmit(a), {
      amount: 7,
      unpredictableNumber: UN,
      aid: 'A0000000041010',
    });
    expect(toHex(mc.data)).toBe(
      `000000000007${'00'.repeat(6)}0250${'00'.repeat(5)}0978261123000102030400800001${toHex(mc.iad.subarray(2, 8))}`,
    );
  });
});

describe('sandbox cards', () => {
  it('anyone can recompute a tap cryptogram from the documented issuer master key', async () => {
    const { se } = loaded();
    for (const aid of ['A0000000031010', 'A0000000041010', 'A000000003101001']) {
      const result = await tap((a) => se.transmit(a), { amount: 999, unpredictableNumber: UN, aid });
      const card = sandboxCards.find((c) => c.pan === result.pan);
      // What `amulet crypto cryptogram --imk .. --pan .. --psn .. --atc .. --data .. --cvn .. [--un ..]` computes.
      const recomputed = computeCryptogram({
        cvn: card?.cvn ?? 18,
        imk: card?.imk ?? new Uint8Array(16),
        pan: result.pan,
        psn: result.psn,
        atc: result.atc,
        data: result.data,
        unpredictableNumber: UN,
      });
      expect(toHex(recomputed)).toBe(toHex(result.cryptogram));
    }
  });
});
