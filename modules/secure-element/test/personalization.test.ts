import { concat, fromHex, toHex } from '@amulet/bytes';
import { cmac, deriveIccMasterKey, keyCheckValue, verifyCryptogram } from '@amulet/emv';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decodePersonalizationData,
  deleteScript,
  encodePersonalizationData,
  type PersonalizationCard,
  type PersonalizationData,
  parseAidObject,
  parseInstallForInstall,
  parseInstallForPersonalization,
  personalizationScript,
  putScp03Keys,
  Scp03Constant,
  Scp11HostSession,
  type SecureElement,
  sandboxCards,
  scp03Kdf,
  scp03SessionKeys,
  setStatusScript,
  tap,
  verifyConfirmation,
  webSocketSeServer,
  webSocketTransport,
} from '../src/index.ts';
import { rig, seededRng, UN } from './fixtures.ts';
import { manufacture, type TestPki, testPki } from './pki-fixtures.ts';

let pki: TestPki;
beforeAll(async () => {
  pki = await testPki();
});

/** The sandbox cards as a token service would send them: MK-AC derived from the IMK. */
function cardFrom(index: number, id: string): PersonalizationCard & { imk: Uint8Array } {
  const s = sandboxCards[index];
  if (s === undefined) throw new Error('no such sandbox card');
  return {
    id,
    profile: s.profile,
    cvn: s.cvn,
    label: s.label,
    pan: s.pan,
    expiry: s.expiry,
    psn: s.psn,
    imk: s.imk,
    mkAc: deriveIccMasterKey({
      imk: s.imk,
      pan: s.pan,
      psn: s.psn,
      algorithm: s.cvn === 22 ? 'aes' : 'tdes',
    }),
  };
}

async function opened(seed = 'perso') {
  const r = rig({ seed });
  await manufacture(r.se, pki);
  const wire: Uint8Array[] = [];
  const transmit = async (apdu: Uint8Array) => {
    wire.push(apdu.slice());
    const response = r.se.transmit(apdu);
    wire.push(response.slice());
    return response;
  };
  const session = await Scp11HostSession.open({
    transmit,
    rng: seededRng(`${seed}-oce`),
    verifyCardCertificates: pki.trusts,
  });
  return { ...r, session, wire };
}

function verifies(se: SecureElement, card: ReturnType<typeof cardFrom>, aid: string): Promise<boolean> {
  return tap((a) => se.transmit(a), { amount: 1234, unpredictableNumber: UN, aid }).then((result) =>
    verifyCryptogram({
      cvn: result.cvn,
      imk: card.imk,
      pan: result.pan,
      psn: result.psn,
      atc: result.atc,
      data: result.data,
      unpredictableNumber: UN,
      cryptogram: result.cryptogram,
    }),
  );
}

describe('personalization over SCP11', () => {
  it('installs each profile; the confirmation verifies; taps verify under the issuer key', async () => {
    const { se, session } = await opened();
    const ids = ['tok-visa-18', 'tok-mc-17', 'tok-visa-22'];
    const aids: string[] = [];
    for (const [i, id] of ids.entries()) {
      const card = cardFrom(i, id);
      const outcome = await personalizationScript(session, card);
      const result = verifyConfirmation({
        confirmation: outcome.confirmation,
        cardPublicKey: session.cardPublicKey,
        receipt: session.receipt,
        tokenId: id,
        action: 'personalized',
      });
      expect(result).toEqual({ status: 'valid', tokenId: id, aid: outcome.aid, action: 'personalized' });
      aids.push(outcome.aid);
    }
    expect(aids).toEqual(['A0000000031010', 'A0000000041010', 'A000000003101001']);
    expect(se.tokens().map((t) => t.id)).toEqual(ids);
    for (const [i, aid] of aids.entries()) {
      expect(await verifies(se, cardFrom(i, ids[i] ?? ''), aid)).toBe(true);
    }
  });

  it('the MK-AC and the DPAN never cross the relay in clear', async () => {
    const { session, wire } = await opened();
    const card = cardFrom(0, 'tok-wire');
    await personalizationScript(session, card);
    const traffic = wire.map(toHex).join('|');
    expect(traffic).not.toContain(toHex(card.mkAc));
    expect(traffic).not.toContain(card.pan);
    expect(traffic).not.toContain(toHex(new TextEncoder().encode('tok-wire')));
  });

  it('survives a reopen of the SE (the install was sealed before the confirmation)', async () => {
    const r = await opened();
    await personalizationScript(r.session, cardFrom(1, 'tok-persist'));
    expect(
      r
        .reopen()
        .tokens()
        .map((t) => t.id),
    ).toEqual(['tok-persist']);
  });

  it('a confirmation is refused for another session, token, action, key or a changed byte', async () => {
    const { session } = await opened();
    const other = await opened('other-se');
    const { confirmation } = await personalizationScript(session, cardFrom(0, 'tok-a'));
    const base = { confirmation, cardPublicKey: session.cardPublicKey, receipt: session.receipt };
    expect(verifyConfirmation(base).status).toBe('valid');
    expect(verifyConfirmation({ ...base, receipt: other.session.receipt })).toEqual({ status: 'invalid' });
    expect(verifyConfirmation({ ...base, cardPublicKey: other.session.cardPublicKey })).toEqual({
      status: 'invalid',
    });
    expect(verifyConfirmation({ ...base, tokenId: 'tok-b' })).toEqual({ status: 'invalid' });
    expect(verifyConfirmation({ ...base, action: 'deleted' })).toEqual({ status: 'invalid' });
    for (const index of [5, 20, confirmation.length - 1]) {
      const changed = confirmation.slice();
      changed[index]! ^= 1;
      expect(verifyConfirmation({ ...base, confirmation: changed })).toEqual({ status: 'invalid' });
    }
  });

  it('deletes and locks by APDU, each with its confirmation', async () => {
    const { se, session } = await opened();
    const { aid } = await personalizationScript(session, cardFrom(0, 'tok-life'));
    const check = (confirmation: Uint8Array, action: 'locked' | 'unlocked' | 'deleted') =>
      verifyConfirmation({
        confirmation,
        cardPublicKey: session.cardPublicKey,
        receipt: session.receipt,
        tokenId: 'tok-life',
        action,
      }).status;
    expect(check((await setStatusScript(session, aid, true)).confirmation, 'locked')).toBe('valid');
    expect(se.tokens()[0]?.status).toBe('suspended');
    expect(check((await setStatusScript(session, aid, false)).confirmation, 'unlocked')).toBe('valid');
    expect(se.tokens()[0]?.status).toBe('active');
    expect(check((await deleteScript(session, aid)).confirmation, 'deleted')).toBe('valid');
    expect(se.tokens()).toEqual([]);
    await expect(deleteScript(session, aid)).rejects.toThrow(/DELETE answered 6A88/);
  });

  it('refuses a wrong key check value, a duplicate token, and STORE DATA without INSTALL; nothing is left behind', async () => {
    const { se, session } = await opened();
    const card = cardFrom(0, 'tok-kcv');
    await expect(
      personalizationScript(session, { ...card, mkAc: fromHex('00'.repeat(16)) }),
    ).resolves.toBeDefined();
    // That was a valid (if useless) key; now send one whose KCV does not match by hand.
    const data = encodePersonalizationData({
      tokenId: 'tok-bad',
      cvn: 18,
      label: 'X',
      pan: card.pan,
      expiry: card.expiry,
      psn: card.psn,
      encryptedMkAc: session.encryptKey(card.mkAc),
      keyCheckValue: fromHex('000000'),
    });
    expect((await session.send({ cla: 0x80, ins: 0xe2, p1: 0xb0, p2: 0, data, le: 256 })).sw).toBe(0x6985);
    const { installForInstallData, installForPersonalizationData } = await import('../src/index.ts');
    await session.send({
      cla: 0x80,
      ins: 0xe6,
      p1: 0x0c,
      p2: 0,
      data: installForInstallData('qvsdc', 'A000000003101005'),
      le: 256,
    });
    await session.send({
      cla: 0x80,
      ins: 0xe6,
      p1: 0x20,
      p2: 0,
      data: installForPersonalizationData('A000000003101005'),
      le: 256,
    });
    expect((await session.send({ cla: 0x80, ins: 0xe2, p1: 0xb0, p2: 0, data, le: 256 })).sw).toBe(0x6a80);
    await expect(personalizationScript(session, cardFrom(0, 'tok-kcv'))).rejects.toThrow(
      /STORE DATA answered 6985/,
    );
    expect(se.tokens().map((t) => t.id)).toEqual(['tok-kcv']);
  });

  it('property: personalization data round-trips, and any bytes decode or give the typed error', () => {
    const data = fc.record({
      tokenId: fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/),
      cvn: fc.constantFrom(17, 18, 22),
      label: fc.stringMatching(/^[\x20-\x7e]{1,16}$/),
      pan: fc.stringMatching(/^[0-9]{12,19}$/),
      expiry: fc.stringMatching(/^[0-9]{6}$/),
      psn: fc.stringMatching(/^[0-9]{2}$/),
      encryptedMkAc: fc.uint8Array({ minLength: 16, maxLength: 16 }),
      keyCheckValue: fc.uint8Array({ minLength: 3, maxLength: 3 }),
    }) as fc.Arbitrary<PersonalizationData>;
    fc.assert(
      fc.property(data, (d) => {
        const back = decodePersonalizationData(encodePersonalizationData(d));
        expect({
          ...back,
          encryptedMkAc: toHex(back.encryptedMkAc),
          keyCheckValue: toHex(back.keyCheckValue),
        }).toEqual({
          ...d,
          encryptedMkAc: toHex(d.encryptedMkAc),
          keyCheckValue: toHex(d.keyCheckValue),
        });
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodePersonalizationData(bytes);
        } catch (error) {
          expect((error as { code?: string }).code).toBe('ERR_SE_PERSO_DATA');
        }
        // The card content parsers answer undefined, never throw.
        parseInstallForInstall(bytes);
        parseInstallForPersonalization(bytes);
        parseAidObject(bytes);
        expect(
          verifyConfirmation({
            confirmation: bytes,
            cardPublicKey: new Uint8Array(65),
            receipt: new Uint8Array(16),
          }),
        ).toEqual({ status: 'invalid' });
      }),
    );
  });
});

describe('PUT KEY over SCP11', () => {
  const oldKeys = {
    kvn: 0x30,
    enc: fromHex('40'.repeat(16)),
    mac: fromHex('50'.repeat(16)),
    dek: fromHex('60'.repeat(16)),
  };
  const newKeys = {
    kvn: 0x31,
    enc: fromHex('000102030405060708090A0B0C0D0E0F'),
    mac: fromHex('101112131415161718191A1B1C1D1E1F'),
    dek: fromHex('202122232425262728292A2B2C2D2E2F'),
  };

  /** Opens an SCP03 channel with `keys` as a host would; answers the EXTERNAL AUTHENTICATE SW. */
  function scp03Auth(se: SecureElement, keys: typeof oldKeys): string {
    se.transmit(fromHex('00A4040008A00000015100000000'));
    const host = fromHex('0102030405060708');
    const init = se.transmit(concat(Uint8Array.of(0x80, 0x50, keys.kvn, 0x00, 0x08), host, fromHex('00')));
    if (toHex(init.subarray(-2)) !== '9000') return toHex(init.subarray(-2));
    const session = scp03SessionKeys(keys, host, init.subarray(13, 21));
    const context = concat(host, init.subarray(13, 21));
    const ext = concat(
      fromHex('8482010010'),
      scp03Kdf(session.sMac, Scp03Constant.HOST_CRYPTOGRAM, 64, context),
    );
    const mac = cmac('aes', session.sMac, concat(new Uint8Array(16), ext)).subarray(0, 8);
    return toHex(se.transmit(concat(ext, mac)).subarray(-2));
  }

  it('replaces the SCP03 key set: the new keys open a channel, the old ones no longer do, after a reopen too', async () => {
    const r = rig({ seed: 'put-key', scp03: oldKeys });
    await manufacture(r.se, pki);
    expect(scp03Auth(r.se, oldKeys)).toBe('9000');
    const session = await Scp11HostSession.open({
      transmit: async (a) => r.se.transmit(a),
      rng: seededRng('put-key-oce'),
      verifyCardCertificates: pki.trusts,
    });
    const answer = await putScp03Keys(session, newKeys, 0x30);
    expect(answer.kvn).toBe(0x31);
    expect(answer.keyCheckValues.map(toHex)).toEqual(
      [newKeys.enc, newKeys.mac, newKeys.dek].map((k) =>
        toHex(keyCheckValue(k, { algorithm: 'aes', method: 'gp-aes', length: 3 })),
      ),
    );
    expect(scp03Auth(r.se, newKeys)).toBe('9000');
    expect(scp03Auth(r.se, oldKeys)).toBe('6A88');
    expect(scp03Auth(r.reopen(), newKeys)).toBe('9000');
  });

  it('refuses a wrong key check value or key version, and PUT KEY outside SCP11', async () => {
    const r = rig({ seed: 'put-key-bad', scp03: oldKeys });
    await manufacture(r.se, pki);
    const session = await Scp11HostSession.open({
      transmit: async (a) => r.se.transmit(a),
      rng: seededRng('put-key-bad-oce'),
      verifyCardCertificates: pki.trusts,
    });
    await expect(putScp03Keys(session, newKeys, 0x32)).rejects.toThrow(/PUT KEY answered 6A88/);
    const data = [0x31];
    for (const key of [newKeys.enc, newKeys.mac, newKeys.dek])
      data.push(0x88, 0x11, 0x10, ...session.encryptKey(key), 0x03, 0, 0, 0);
    const bad = await session.send({
      cla: 0x80,
      ins: 0xd8,
      p1: 0x30,
      p2: 0x81,
      data: Uint8Array.from(data),
      le: 256,
    });
    expect(bad.sw).toBe(0x6a80);
    expect(scp03Auth(r.se, oldKeys)).toBe('9000');
    r.se.transmit(fromHex('00A4040008A00000015100000000'));
    expect(toHex(r.se.transmit(fromHex('80D83081020000')).subarray(-2))).toBe('6982');
  });
});

describe('personalization through a relay', () => {
  it('runs over the WebSocket transport as opaque bytes, as a wallet and phone would relay it', async () => {
    const r = rig({ seed: 'relay' });
    await manufacture(r.se, pki);
    const server = await webSocketSeServer((apdu) => r.se.transmit(apdu));
    const transport = await webSocketTransport(server.url);
    try {
      const session = await Scp11HostSession.open({
        transmit: (apdu) => transport.transmit(apdu),
        rng: seededRng('relay-oce'),
        verifyCardCertificates: pki.trusts,
      });
      const card = cardFrom(2, 'tok-relay');
      const { aid, confirmation } = await personalizationScript(session, card);
      expect(
        verifyConfirmation({
          confirmation,
          cardPublicKey: session.cardPublicKey,
          receipt: session.receipt,
          tokenId: 'tok-relay',
        }).status,
      ).toBe('valid');
      expect(await verifies(r.se, card, aid)).toBe(true);
    } finally {
      await transport.close?.();
      await server.close();
    }
  });
});
