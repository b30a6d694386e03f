import { StatusWord } from '@amulet/apdu';
import { concat, fromHex, toHex } from '@amulet/bytes';
import { encodeTlv } from '@amulet/tlv';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  cardKeyAgreement,
  generatePrivateScalar,
  hostKeyAgreement,
  personalizationScript,
  publicPoint,
  Scp11HostSession,
  SecureElement,
  scp11ControlTemplate,
  verifyConfirmation,
} from '../src/index.ts';
import { DEVICE_KEY, rig, seededRng } from './fixtures.ts';
import { loader, manufacture, type TestPki, testPki } from './pki-fixtures.ts';

let pki: TestPki;
beforeAll(async () => {
  pki = await testPki();
});

const SELECT_ISD = fromHex('00A4040008A00000015100000000');
const sw = (r: Uint8Array) => toHex(r.subarray(-2));

async function device(seed = 'scp11') {
  const r = rig({ seed });
  await manufacture(r.se, pki);
  return r;
}

/** A relay that can see and alter every APDU, as the wallet and the phone could. */
function relay(se: SecureElement, alter?: (apdu: Uint8Array, index: number) => Uint8Array) {
  const log: { command: Uint8Array; response: Uint8Array }[] = [];
  let index = 0;
  const transmit = async (apdu: Uint8Array) => {
    const command = alter === undefined ? apdu : alter(apdu.slice(), index);
    index += 1;
    const response = se.transmit(command);
    log.push({ command, response });
    return response;
  };
  return { transmit, log };
}

describe('SCP11b (GlobalPlatform Amendment F)', () => {
  it('opens a session: the SE certificate is read, checked, and the receipt verifies', async () => {
    const { se } = await device();
    const link = relay(se);
    const session = await Scp11HostSession.open({
      transmit: link.transmit,
      rng: seededRng('oce'),
      verifyCardCertificates: pki.trusts,
    });
    expect(session.receipt.length).toBe(16);
    expect(toHex(session.cardCertificates[0] ?? new Uint8Array(0))).toBe(
      toHex(se.certificates()[0] ?? new Uint8Array(1)),
    );
    // The certificate store is longer than 256 bytes: it came in parts (61XX then GET RESPONSE).
    expect(link.log.some((e) => sw(e.response).startsWith('61'))).toBe(true);
    const status = await session.send({
      cla: 0x80,
      ins: 0xf2,
      p1: 0x80,
      p2: 0x02,
      data: fromHex('4F00'),
      le: 256,
    });
    expect(status.sw).toBe(0x9000);
    expect(toHex(status.data)).toContain('A000000151000000');
  });

  it('refuses an SE whose certificate chain the host does not trust', async () => {
    const { se } = await device();
    const other = await testPki();
    await expect(
      Scp11HostSession.open({
        transmit: relay(se).transmit,
        rng: seededRng('oce'),
        verifyCardCertificates: other.trusts,
      }),
    ).rejects.toThrow(/not trusted/);
  });

  it('refuses a receipt altered on the way, with one fixed error', async () => {
    const { se } = await device();
    const link = relay(se);
    const transmit = async (apdu: Uint8Array) => {
      const response = await link.transmit(apdu);
      if (apdu[1] === 0x88) response[response.length - 3]! ^= 1;
      return response;
    };
    await expect(
      Scp11HostSession.open({ transmit, rng: seededRng('oce'), verifyCardCertificates: pki.trusts }),
    ).rejects.toMatchObject({ code: 'ERR_SE_SCP11_RECEIPT' });
  });

  it('an SE that is not the certified one cannot complete the key agreement', async () => {
    const { se } = await device();
    const impostor = (await device('impostor')).se;
    // The impostor answers INTERNAL AUTHENTICATE; the certificate came from the real SE.
    const transmit = async (apdu: Uint8Array) => (apdu[1] === 0x88 ? impostor : se).transmit(apdu);
    impostor.transmit(SELECT_ISD);
    await expect(
      Scp11HostSession.open({ transmit, rng: seededRng('oce'), verifyCardCertificates: pki.trusts }),
    ).rejects.toMatchObject({ code: 'ERR_SE_SCP11_RECEIPT' });
  });

  it('answers status words for wrong key references, data and points, and without an identity', async () => {
    const plain = rig({ seed: 'no-identity' }).se;
    plain.transmit(SELECT_ISD);
    const ephemeral = publicPoint(generatePrivateScalar(seededRng('e')));
    const data = encodeTlv([scp11ControlTemplate('B'), { tag: '5F49', value: ephemeral }]);
    const auth = (p1: number, p2: number, body: Uint8Array) =>
      concat(Uint8Array.of(0x80, 0x88, p1, p2, body.length), body, Uint8Array.of(0));
    expect(sw(plain.transmit(auth(0, 0x13, data)))).toBe('6D00');
    const { se } = await device();
    se.transmit(SELECT_ISD);
    expect(sw(se.transmit(auth(0, 0x11, data)))).toBe('6A88');
    expect(sw(se.transmit(auth(0x02, 0x13, data)))).toBe('6A88');
    const offCurve = ephemeral.slice();
    offCurve[64]! ^= 1;
    expect(
      sw(
        se.transmit(auth(0, 0x13, encodeTlv([scp11ControlTemplate('B'), { tag: '5F49', value: offCurve }]))),
      ),
    ).toBe('6A80');
    const otherUsage = encodeTlv([
      {
        tag: 'A6',
        children: [
          { tag: '90', value: fromHex('1100') },
          { tag: '95', value: fromHex('34') },
          { tag: '80', value: fromHex('88') },
          { tag: '81', value: fromHex('10') },
        ],
      },
      { tag: '5F49', value: ephemeral },
    ]);
    expect(sw(se.transmit(auth(0, 0x13, otherUsage)))).toBe('6A80');
    expect(sw(se.transmit(auth(0, 0x13, concat(data, fromHex('00')))))).toBe('6A80');
    expect(sw(se.transmit(auth(0, 0x13, data)))).toBe('9000');
  });

  it('a command altered by the relay is refused and the channel closes', async () => {
    const { se } = await device();
    let armed = false;
    const link = relay(se, (apdu) => {
      if (armed) apdu[apdu.length - 3]! ^= 1;
      return apdu;
    });
    const session = await Scp11HostSession.open({
      transmit: link.transmit,
      rng: seededRng('oce'),
      verifyCardCertificates: pki.trusts,
    });
    armed = true;
    const refused = await session.send({
      cla: 0x80,
      ins: 0xf2,
      p1: 0x80,
      p2: 0x02,
      data: fromHex('4F00'),
      le: 256,
    });
    expect(refused.sw).toBe(StatusWord.SECURITY_STATUS_NOT_SATISFIED);
    armed = false;
    const after = await session.send({
      cla: 0x80,
      ins: 0xf2,
      p1: 0x80,
      p2: 0x02,
      data: fromHex('4F00'),
      le: 256,
    });
    expect(after.sw).toBe(StatusWord.SECURITY_STATUS_NOT_SATISFIED);
  });

  it('a replayed secured command (an old counter and chaining value) is refused', async () => {
    const { se } = await device();
    const link = relay(se);
    const session = await Scp11HostSession.open({
      transmit: link.transmit,
      rng: seededRng('oce'),
      verifyCardCertificates: pki.trusts,
    });
    const first = await session.send({
      cla: 0x80,
      ins: 0xf2,
      p1: 0x80,
      p2: 0x02,
      data: fromHex('4F00'),
      le: 256,
    });
    expect(first.sw).toBe(0x9000);
    const captured = link.log[link.log.length - 1]?.command ?? new Uint8Array(0);
    expect(captured[0]).toBe(0x84);
    expect(sw(se.transmit(captured))).toBe('6982');
  });

  it('a response altered by the relay ends the host session', async () => {
    const { se } = await device();
    const link = relay(se);
    let armed = false;
    const transmit = async (apdu: Uint8Array) => {
      const response = await link.transmit(apdu);
      if (armed) response[0]! ^= 1;
      return response;
    };
    const session = await Scp11HostSession.open({
      transmit,
      rng: seededRng('oce'),
      verifyCardCertificates: pki.trusts,
    });
    armed = true;
    await expect(
      session.send({ cla: 0x80, ins: 0xf2, p1: 0x80, p2: 0x02, data: fromHex('4F00'), le: 256 }),
    ).rejects.toMatchObject({ code: 'ERR_SE_CHANNEL' });
    expect(session.open).toBe(false);
  });

  it('card management commands outside an SCP11 channel answer 6982', async () => {
    const { se } = await device();
    se.transmit(SELECT_ISD);
    for (const ins of [0xe6, 0xe2, 0xe4, 0xf0]) {
      expect(sw(se.transmit(Uint8Array.of(0x80, ins, 0x00, 0x00, 0x02, 0x4f, 0x00)))).toBe('6982');
    }
  });

  it('an SCP03 channel cannot manage card content: SCP11 is required', async () => {
    const keys = {
      kvn: 0x30,
      enc: fromHex('40'.repeat(16)),
      mac: fromHex('50'.repeat(16)),
      dek: fromHex('60'.repeat(16)),
    };
    const se = SecureElement.open({
      deviceKey: DEVICE_KEY,
      rng: seededRng('s3'),
      clock: () => 0,
      scp03: keys,
    });
    await manufacture(se, pki);
    const { Scp03HostChannel, scp03SessionKeys, Scp03Constant, scp03Kdf } = await import('../src/index.ts');
    se.transmit(SELECT_ISD);
    const host = fromHex('0102030405060708');
    const init = se.transmit(concat(fromHex('8050000008'), host, fromHex('00')));
    const session = scp03SessionKeys(keys, host, init.subarray(13, 21));
    const context = concat(host, init.subarray(13, 21));
    const ext = concat(
      fromHex('8482330010'),
      scp03Kdf(session.sMac, Scp03Constant.HOST_CRYPTOGRAM, 64, context),
    );
    const { cmac } = await import('@amulet/emv');
    const mac = cmac('aes', session.sMac, concat(new Uint8Array(16), ext));
    expect(sw(se.transmit(concat(ext, mac.subarray(0, 8))))).toBe('9000');
    const channel = new Scp03HostChannel(session, mac, 0x33);
    expect(sw(se.transmit(channel.wrapCommand(fromHex('80E40000094F07A000000003101000'))))).toBe('6982');
  });

  it('property: card and host derive the same keys and receipt for any keys', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 8 }), (seed) => {
        const rng = seededRng(seed);
        const sdKey = generatePrivateScalar(rng);
        const oceEphemeral = generatePrivateScalar(rng);
        const commandData = encodeTlv([
          scp11ControlTemplate('B'),
          { tag: '5F49', value: publicPoint(oceEphemeral) },
        ]);
        const card = cardKeyAgreement({ variant: 'B', commandData, sdPrivateKey: sdKey, rng });
        const host = hostKeyAgreement({
          commandData,
          responseData: card.response,
          oceEphemeralKey: oceEphemeral,
          sdPublicKey: publicPoint(sdKey),
        });
        expect(toHex(host.receipt)).toBe(toHex(card.receipt));
        expect(toHex(host.keys.dek)).toBe(toHex(card.dek));
      }),
      { numRuns: 25 },
    );
  });

  it('host key agreement never crashes on arbitrary responses: one typed error', () => {
    const rng = seededRng('fuzz');
    const oceEphemeral = generatePrivateScalar(rng);
    const sdPublicKey = publicPoint(generatePrivateScalar(rng));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (responseData) => {
        expect(() =>
          hostKeyAgreement({
            commandData: new Uint8Array(0),
            responseData,
            oceEphemeralKey: oceEphemeral,
            sdPublicKey,
          }),
        ).toThrow(/did not prove its key/);
      }),
      { numRuns: 200 },
    );
  });
});

describe('SCP11a: the off-card entity proves itself with its certificate', () => {
  async function guarded(seed = 'scp11a') {
    const se = SecureElement.open({
      deviceKey: DEVICE_KEY,
      rng: seededRng(seed),
      clock: () => 0,
      oceTrustAnchors: [pki.root.der],
    });
    await manufacture(se, pki);
    return se;
  }
  const open = (se: SecureElement, oce?: { certificates: Uint8Array[]; privateKey: Uint8Array }) =>
    Scp11HostSession.open({
      transmit: async (a) => se.transmit(a),
      rng: seededRng('oce-eph'),
      verifyCardCertificates: pki.trusts,
      ...(oce === undefined ? {} : { oce }),
    });
  const card = {
    id: 'tok-11a',
    profile: 'qvsdc' as const,
    cvn: 18 as const,
    label: 'VISA',
    pan: '4761739001010010',
    expiry: '301231',
    psn: '01',
    mkAc: fromHex('0123456789ABCDEFFEDCBA9876543210'),
  };

  it('a loader certified under the trusted root personalizes; the certificate crossed in chained blocks', async () => {
    const se = await guarded();
    const oce = await loader(pki);
    expect(oce.certificates[0]?.length).toBeGreaterThan(255);
    const session = await open(se, oce);
    expect(session.variant).toBe('A');
    const { confirmation } = await personalizationScript(session, card);
    expect(
      verifyConfirmation({
        confirmation,
        cardPublicKey: session.cardPublicKey,
        receipt: session.receipt,
        tokenId: 'tok-11a',
      }).status,
    ).toBe('valid');
  });

  it('with OCE trust anchors set, an SCP11b channel may read but not change card content', async () => {
    const se = await guarded();
    const session = await open(se);
    expect(session.variant).toBe('B');
    await expect(personalizationScript(session, card)).rejects.toThrow(
      /INSTALL \[for install\] answered 6982/,
    );
    expect(se.tokens()).toEqual([]);
  });

  it('refuses a loader without the tsp-loader role, from another root, or without its private key', async () => {
    const se = await guarded();
    await expect(open(se, await loader(pki, ['tsp-encryption']))).rejects.toMatchObject({
      code: 'ERR_SE_SCP11_OCE',
    });
    const stranger = await testPki();
    await expect(open(se, await loader(stranger))).rejects.toMatchObject({ code: 'ERR_SE_SCP11_OCE' });
    const real = await loader(pki);
    const wrongKey = {
      certificates: real.certificates,
      privateKey: generatePrivateScalar(seededRng('thief')),
    };
    await expect(open(se, wrongKey)).rejects.toMatchObject({ code: 'ERR_SE_SCP11_RECEIPT' });
  });

  it('MUTUAL AUTHENTICATE without a certified OCE key answers 6985; PSO without anchors 6D00', async () => {
    const se = await guarded();
    se.transmit(SELECT_ISD);
    const data = encodeTlv([
      scp11ControlTemplate('A'),
      { tag: '5F49', value: publicPoint(generatePrivateScalar(seededRng('x'))) },
    ]);
    expect(
      sw(se.transmit(concat(Uint8Array.of(0x80, 0x82, 0x00, 0x11, data.length), data, Uint8Array.of(0)))),
    ).toBe('6985');
    const { se: plain } = await device();
    plain.transmit(SELECT_ISD);
    expect(sw(plain.transmit(fromHex('802A0310023000')))).toBe('6D00');
  });
});
