import { fromHex, toHex } from '@amulet/bytes';
import { verifyCryptogram } from '@amulet/emv';
import { cryptogramData, type SeTransport, sandboxCards } from '@amulet/secure-element';
import { encodeTlv } from '@amulet/tlv';
import { describe, expect, it } from 'vitest';
import {
  type CardData,
  combinations,
  defaultKernelConfig,
  type KernelConfig,
  readCard,
} from '../src/index.ts';
import { wearable } from './support/wearable.ts';

const UN = fromHex('DEADBEEF');
const txn = (amount: number) => ({ amount, unpredictableNumber: UN, date: '261123' });

function online(read: Awaited<ReturnType<typeof readCard>>): CardData {
  if (read.kind !== 'online') throw new Error(`expected an online request, got ${read.outcome.reason}`);
  return read.card;
}

/** The cryptogram checks out with the sandbox card's published IMK over the data in field 55. */
function verifies(card: CardData, id: string): boolean {
  const sandbox = sandboxCards.find((c) => c.id === id)!;
  return verifyCryptogram({
    cvn: sandbox.cvn,
    imk: sandbox.imk,
    pan: card.pan,
    psn: card.psn,
    atc: card.atc,
    data: cryptogramData(sandbox.cvn, card.terminalData, card.aip, card.atc, card.iad),
    unpredictableNumber: UN,
    cryptogram: card.cryptogram,
  });
}

describe('the contactless kernel, against the secure element', () => {
  it('reads a qVSDC CVN 18 card: DPAN, expiry, PSN, an ARQC that verifies', async () => {
    const w = wearable(['sandbox-visa-cvn18']);
    const card = online(await readCard(w.transport, txn(1234), defaultKernelConfig));
    expect(card.kernel).toBe('qvsdc');
    expect(card.pan).toBe('4761739001010010');
    expect(card.expiry).toBe('3012');
    expect(card.psn).toBe('01');
    expect(card.cid & 0xc0).toBe(0x80);
    expect(toHex(card.atc)).toBe('0001');
    expect(card.cdcvm).toBe(false);
    expect(verifies(card, 'sandbox-visa-cvn18')).toBe(true);
    expect(toHex(card.cvmResults)).toBe('1F0002');
  });

  it('reads a qVSDC CVN 22 (AES) card', async () => {
    const w = wearable(['sandbox-visa-cvn22']);
    const card = online(await readCard(w.transport, txn(500), defaultKernelConfig));
    expect(card.pan).toBe('4761739001010036');
    expect(verifies(card, 'sandbox-visa-cvn22')).toBe(true);
  });

  it('reads an M/Chip CVN 17 card through GPO, READ RECORD and GENERATE AC', async () => {
    const w = wearable(['sandbox-mastercard-cvn17']);
    const read = await readCard(w.transport, txn(1234), defaultKernelConfig);
    const card = online(read);
    expect(card.kernel).toBe('mchip');
    expect(card.pan).toBe('5413330089010012');
    expect(card.expiry).toBe('3012');
    expect(verifies(card, 'sandbox-mastercard-cvn17')).toBe(true);
    expect(read.exchanges.map((e) => toHex(e.command.subarray(0, 2)))).toEqual([
      '00A4',
      '00A4',
      '80A8',
      '00B2',
      '80AE',
    ]);
    // The published first tap on this card (docs/secure-element.md): same data, same cryptogram.
    expect(toHex(card.cryptogram)).toBe('F516A137E92068D5');
  });

  it('the published qVSDC cryptogram comes out for the published tap data', async () => {
    const w = wearable(['sandbox-visa-cvn18']);
    const card = online(await readCard(w.transport, txn(1234), defaultKernelConfig));
    // docs/secure-element.md uses TTQ-independent covered data: this pins the PDOL assembly.
    expect(toHex(card.terminalData.get('9F02')!)).toBe('000000001234');
    expect(toHex(card.terminalData.get('9F1A')!)).toBe('0250');
    expect(toHex(card.terminalData.get('5F2A')!)).toBe('0978');
    expect(toHex(card.cryptogram)).toBe('A2F94C46C50EB778');
  });

  it('at or above the contactless limit: try another interface, and the card is never touched', async () => {
    const w = wearable(['sandbox-visa-cvn18']);
    const config: KernelConfig = { ...defaultKernelConfig, contactlessTransactionLimit: 10_000 };
    const read = await readCard(w.transport, txn(10_000), config);
    expect(read.kind === 'outcome' && read.outcome.status).toBe('try-another-interface');
    expect(read.exchanges).toHaveLength(0);
    expect(w.se.tokens()[0]!.atc).toBe(0);
    expect((await readCard(w.transport, txn(4_000), config)).kind).toBe('online');
  });

  for (const id of ['sandbox-visa-cvn18', 'sandbox-mastercard-cvn17', 'sandbox-visa-cvn22']) {
    it(`${id}: above the CVM limit without CDCVM, see phone (or decline); with a verified PIN, online with CDCVM`, async () => {
      const w = wearable([id]);
      const seePhone = await readCard(w.transport, txn(6_000), defaultKernelConfig);
      expect(seePhone.kind === 'outcome' && seePhone.outcome.status).toBe('see-phone');
      const decline = await readCard(w.transport, txn(6_000), {
        ...defaultKernelConfig,
        noCdcvmAboveLimit: 'decline',
      });
      expect(decline.kind === 'outcome' && decline.outcome.status).toBe('declined');
      expect(decline.kind === 'outcome' && decline.outcome.reason).toBe('cvm-required');
      expect(w.se.wearer.verifyPin('1234').status).toBe('verified');
      const card = online(await readCard(w.transport, txn(6_000), defaultKernelConfig));
      expect(card.cdcvm).toBe(true);
      expect(toHex(card.cvmResults)).toBe('010002');
      expect(verifies(card, id)).toBe(true);
      // Exactly at the limit counts as above (EMV Book A 5.2.2: "greater than or equal to").
      w.se.wearer.wristOff();
      const atLimit = await readCard(
        w.transport,
        txn(defaultKernelConfig.cvmRequiredLimit),
        defaultKernelConfig,
      );
      expect(atLimit.kind === 'outcome' && atLimit.outcome.reason).toBe('cvm-required');
      // Below the limit no CVM is needed even without the PIN session.
      expect((await readCard(w.transport, txn(4_999), defaultKernelConfig)).kind).toBe('online');
    });
  }

  it('the TTQ asks for a CVM only at or above the CVM limit', async () => {
    const w = wearable(['sandbox-visa-cvn18']);
    const below = online(await readCard(w.transport, txn(100), defaultKernelConfig));
    expect(toHex(below.terminalData.get('9F66')!)).toBe('20804000');
    w.se.wearer.verifyPin('1234');
    const above = online(await readCard(w.transport, txn(6_000), defaultKernelConfig));
    expect(toHex(above.terminalData.get('9F66')!)).toBe('20C04000');
  });

  it('a suspended token declines at the card, a blocked PIN sends the wearer to the phone', async () => {
    const w = wearable(['sandbox-visa-cvn18']);
    w.se.setTokenStatus('sandbox-visa-cvn18', 'suspended');
    const suspended = await readCard(w.transport, txn(100), defaultKernelConfig);
    expect(suspended.kind === 'outcome' && suspended.outcome.reason).toBe('card-not-usable');
    w.se.setTokenStatus('sandbox-visa-cvn18', 'active');
    for (let i = 0; i < 5; i++) w.se.wearer.verifyPin('9999');
    const blocked = await readCard(w.transport, txn(100), defaultKernelConfig);
    expect(blocked.kind === 'outcome' && blocked.outcome.status).toBe('see-phone');
  });

  it('picks the application by priority: the default card first, then as the wearer switches', async () => {
    const w = wearable(['sandbox-visa-cvn18', 'sandbox-mastercard-cvn17']);
    expect(online(await readCard(w.transport, txn(100), defaultKernelConfig)).pan).toBe('4761739001010010');
    w.se.setDefault('sandbox-mastercard-cvn17');
    expect(online(await readCard(w.transport, txn(100), defaultKernelConfig)).pan).toBe('5413330089010012');
    // A terminal that accepts only Visa skips the Mastercard entry whatever its priority.
    const visaOnly = {
      ...defaultKernelConfig,
      applications: [{ aid: 'A0000000031010', kernel: 'qvsdc' as const }],
    };
    expect(online(await readCard(w.transport, txn(100), visaOnly)).pan).toBe('4761739001010010');
    // A terminal that accepts neither: nothing to select.
    const none = await readCard(w.transport, txn(100), { ...defaultKernelConfig, applications: [] });
    expect(none.kind === 'outcome' && none.outcome.reason).toBe('no-application');
  });

  it('combination selection orders by priority indicator, no priority last, PPSE order on ties', () => {
    const entry = (aid: string, priority?: number) => ({
      tag: '61',
      children: [
        { tag: '4F', value: fromHex(aid) },
        ...(priority === undefined ? [] : [{ tag: '87', value: new Uint8Array([priority]) }]),
      ],
    });
    const ppse = [
      {
        tag: '6F',
        children: [
          {
            tag: 'A5',
            children: [
              {
                tag: 'BF0C',
                children: [
                  entry('A0000000041010'),
                  entry('A000000003101001', 0x82),
                  entry('A0000000031010', 2),
                  entry('A0000009999999', 1),
                  entry('A000000003101002', 1),
                ],
              },
            ],
          },
        ],
      },
    ];
    const order = combinations(ppse, defaultKernelConfig.applications).map((c) => c.aid);
    expect(order).toEqual(['A000000003101002', 'A000000003101001', 'A0000000031010', 'A0000000041010']);
  });

  it('when the final SELECT fails, the next candidate is tried (EMV Book B 3.3.3)', async () => {
    const w = wearable(['sandbox-visa-cvn18', 'sandbox-mastercard-cvn17']);
    // A reader-side fault: the first application's SELECT answers 6A82.
    const flaky: SeTransport = {
      transmit: async (apdu) =>
        toHex(apdu).startsWith('00A4040007A0000000031010') ? fromHex('6A82') : w.transport.transmit(apdu),
    };
    expect(online(await readCard(flaky, txn(100), defaultKernelConfig)).kernel).toBe('mchip');
  });

  it('a card that answers garbage ends the application, never throws', async () => {
    const garbage: SeTransport = { transmit: async () => encodeTlv([{ tag: '6F', value: fromHex('FF') }]) };
    const read = await readCard(garbage, txn(100), defaultKernelConfig);
    expect(read.kind === 'outcome' && read.outcome.status).toBe('end-application');
  });
});
