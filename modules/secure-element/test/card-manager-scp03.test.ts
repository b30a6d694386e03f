import { concat, fromHex, toHex } from '@amulet/bytes';
import { cmac } from '@amulet/emv';
import { decodeTlv } from '@amulet/tlv';
import { describe, expect, it } from 'vitest';
import { loadSandboxCards, Scp03Constant, SecureElement, scp03Kdf, scp03SessionKeys } from '../src/index.ts';
import { DEVICE_KEY, seededRng } from './fixtures.ts';

const keys = {
  kvn: 0x30,
  enc: fromHex('404142434445464748494A4B4C4D4E4F'),
  mac: fromHex('505152535455565758595A5B5C5D5E5F'),
  dek: fromHex('606162636465666768696A6B6C6D6E6F'),
};
const SELECT_ISD = fromHex('00A4040008A00000015100000000');
const STATUS_APPS = fromHex('80F24002024F0000');

/** A minimal off-card entity (Amendment D §7.1): opens a C-MAC channel and MACs commands. */
function host(se: SecureElement, hostChallenge: Uint8Array) {
  const init = se.transmit(concat(fromHex('8050300008'), hostChallenge, fromHex('00')));
  expect(toHex(init.subarray(-2))).toBe('9000');
  const cardChallenge = init.subarray(13, 21);
  const cardCryptogram = init.subarray(21, 29);
  const session = scp03SessionKeys(keys, hostChallenge, cardChallenge);
  const context = concat(hostChallenge, cardChallenge);
  expect(toHex(cardCryptogram)).toBe(
    toHex(scp03Kdf(session.sMac, Scp03Constant.CARD_CRYPTOGRAM, 64, context)),
  );
  let chaining: Uint8Array = new Uint8Array(16);
  const mac = (header: Uint8Array) => {
    chaining = cmac('aes', session.sMac, concat(chaining, header));
    return chaining.subarray(0, 8);
  };
  const hostCryptogram = scp03Kdf(session.sMac, Scp03Constant.HOST_CRYPTOGRAM, 64, context);
  const ext = concat(fromHex('8482010010'), hostCryptogram);
  return {
    counter: init.subarray(29, 32),
    externalAuthenticate: (tamper = false) => {
      const apdu = concat(ext, mac(ext));
      if (tamper) apdu[apdu.length - 1]! ^= 1;
      return se.transmit(apdu);
    },
    /** Wraps a case 3 or 4 command with data and Le 00. */
    send: (cla: number, ins: number, p1: number, p2: number, data: Uint8Array) => {
      const header = concat(new Uint8Array([cla | 0x04, ins, p1, p2, data.length + 8]), data);
      return se.transmit(concat(header, mac(header), new Uint8Array([0])));
    },
  };
}

function device() {
  const se = SecureElement.open({
    deviceKey: DEVICE_KEY,
    rng: seededRng('scp'),
    clock: () => 0,
    scp03: keys,
  });
  loadSandboxCards(se);
  expect(toHex(se.transmit(SELECT_ISD).subarray(-2))).toBe('9000');
  return se;
}

describe('card manager over SCP03', () => {
  it('GET STATUS of the applets needs the secure channel, and works inside it', () => {
    const se = device();
    expect(toHex(se.transmit(STATUS_APPS))).toBe('6982');
    const h = host(se, fromHex('0102030405060708'));
    expect(toHex(h.externalAuthenticate())).toBe('9000');
    const response = h.send(0x80, 0xf2, 0x40, 0x02, fromHex('4F00'));
    expect(toHex(response.subarray(-2))).toBe('9000');
    expect(decodeTlv(response.subarray(0, -2)).map((n) => n.tag)).toEqual(['E3', 'E3', 'E3']);
  });

  it('the sequence counter rises at each INITIALIZE UPDATE and survives a reopen', () => {
    const se = device();
    const first = host(se, fromHex('1111111111111111')).counter;
    const second = host(se, fromHex('1111111111111111')).counter;
    expect(toHex(first)).toBe('000001');
    expect(toHex(second)).toBe('000002');
  });

  it('a wrong C-MAC on EXTERNAL AUTHENTICATE answers 6300; a wrong MAC later closes the channel', () => {
    const se = device();
    expect(toHex(host(se, fromHex('0102030405060708')).externalAuthenticate(true))).toBe('6300');
    expect(toHex(se.transmit(STATUS_APPS))).toBe('6982');
    const h = host(se, fromHex('0807060504030201'));
    h.externalAuthenticate();
    const bad = concat(fromHex('84F240020A4F00'), new Uint8Array(8), fromHex('00'));
    expect(toHex(se.transmit(bad))).toBe('6982');
    // The channel is gone: even a correctly chained command is refused now.
    expect(toHex(h.send(0x80, 0xf2, 0x40, 0x02, fromHex('4F00')))).toBe('6982');
  });
});
