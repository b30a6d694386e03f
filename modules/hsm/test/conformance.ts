import { createPublicKey, createVerify, diffieHellman, generateKeyPairSync, randomBytes } from 'node:crypto';
import { fromHex, toHex, xor } from '@amulet/bytes';
import {
  arpcMethod2,
  computeCryptogram,
  cryptogramKeys,
  decipherPinBlock,
  deriveIccMasterKey,
  encipherPinBlock,
  keyCheckValue,
  unwrapKeyBlock,
} from '@amulet/emv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Hsm, type HsmError, HsmVerificationError, type KeyAttributes } from '../src/index.ts';
import { loadVectors, vector } from './vectors.ts';

/** How the suite reaches a backend: `open` gives a new handle on the same persistent keystore. */
export interface BackendFactory {
  open(): Promise<Hsm>;
  /**
   * Operations the backend refuses with ERR_HSM_UNSUPPORTED (the suite checks that it does, and
   * enters the keys those tests need from components instead of key blocks).
   */
  readonly unsupported?: readonly ('tr31' | 'emv-tdes' | 'iso9797-alg3' | 'ecdh')[];
}

const random = (length: number): Uint8Array => new Uint8Array(randomBytes(length));

/** Two components whose XOR is the key, as a key ceremony enters it. */
function components(key: Uint8Array): Uint8Array[] {
  const first = random(key.length);
  return [first, xor(first, key)];
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** The fixed verification failure: one class, one code, one message, nothing else. */
async function expectVerificationFailure(promise: Promise<unknown>): Promise<void> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(HsmVerificationError);
  expect((error as HsmError).code).toBe('ERR_HSM_VERIFICATION_FAILED');
  expect((error as HsmError).message).toBe('verification failed');
  expect((error as HsmError).cause).toBeUndefined();
}

const cvnOf = (id: string) => Number(id.match(/CVN(\d+)/)?.[1]) as 10 | 17 | 18 | 22;

/**
 * The behaviour every backend must show, with the same published vectors: run it once per
 * backend with a factory for that backend.
 */
async function expectUnsupported(promise: Promise<unknown>): Promise<void> {
  expect(((await rejection(promise)) as HsmError).code).toBe('ERR_HSM_UNSUPPORTED');
}

export function hsmConformance(name: string, factory: BackendFactory): void {
  const lacks = (feature: 'tr31' | 'emv-tdes' | 'iso9797-alg3') =>
    factory.unsupported?.includes(feature) === true;
  describe(`HSM conformance: ${name}`, () => {
    let hsm: Hsm;
    beforeAll(async () => {
      hsm = await factory.open();
    });
    afterAll(async () => {
      await hsm.close();
    });

    const kbpkTdes = fromHex('AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB');
    const imkValue = fromHex(vector('ac', 'pyemv.VisaCVN10.arqc').inputs.issuer_master_keys.iss_mk_ac);

    it('enters keys from components and reports their key check values', async () => {
      const kek = await hsm.importKeyComponents({
        keyId: 'kek-tdes',
        algorithm: 'tdes',
        usage: 'kek',
        components: components(kbpkTdes),
        kcv: toHex(keyCheckValue(kbpkTdes, { algorithm: 'tdes' })),
      });
      expect(kek).toEqual({
        keyId: 'kek-tdes',
        algorithm: 'tdes',
        length: 16,
        usage: 'kek',
        exportable: false,
        kcv: toHex(keyCheckValue(kbpkTdes, { algorithm: 'tdes' })),
      });
      const imk = await hsm.importKeyComponents({
        keyId: 'imk-ac',
        algorithm: 'tdes',
        usage: 'imk-ac',
        components: components(imkValue),
      });
      expect(imk.kcv).toBe(toHex(keyCheckValue(imkValue, { algorithm: 'tdes' })));
      const wrong = await rejection(
        hsm.importKeyComponents({
          keyId: 'never',
          algorithm: 'tdes',
          usage: 'kek',
          components: components(kbpkTdes),
          kcv: '000000',
        }),
      );
      expect((wrong as HsmError).code).toBe('ERR_HSM_KCV_MISMATCH');
      expect((await hsm.listKeys()).map((k) => k.keyId)).not.toContain('never');
    });

    it('imports TR-31 key blocks (versions A, B, D) with the published key check values', async () => {
      for (const v of loadVectors('tr31')) {
        const kbpk = fromHex(v.inputs.kbpk);
        const kekId = `kek-${v.id.slice(-6)}`;
        await hsm.importKeyComponents({
          keyId: kekId,
          algorithm: kbpk.length === 32 ? 'aes' : 'tdes',
          usage: 'kek',
          components: components(kbpk),
        });
        const value = fromHex(v.expected.key);
        const algorithm = v.inputs.key_block[7] === 'A' ? 'aes' : 'tdes';
        const keyId = `tr31-${v.id.slice(-6)}`;
        let key: KeyAttributes;
        if (lacks('tr31')) {
          await expectUnsupported(hsm.importKey({ keyId, kekId, keyBlock: v.inputs.key_block }));
          const usage = v.inputs.key_block.slice(5, 7) === 'P0' ? 'pin-encryption' : 'mac';
          key = await hsm.importKeyComponents({
            keyId,
            algorithm,
            usage,
            components: components(value),
            exportable: true,
          });
        } else {
          key = await hsm.importKey({ keyId, kekId, keyBlock: v.inputs.key_block });
        }
        expect(key.algorithm).toBe(algorithm);
        expect(key.kcv).toBe(toHex(keyCheckValue(value, { algorithm })));
        expect(key.exportable).toBe(true);
      }
      if (lacks('tr31')) return;
      // A changed MAC digit: the key block is refused and no key appears.
      const v = vector('tr31', 'psec.tr31_B0080P0TE00E0000_8A248E');
      const block = v.inputs.key_block as string;
      const tampered = `${block.slice(0, -1)}${block.endsWith('0') ? '1' : '0'}`;
      const error = await rejection(
        hsm.importKey({ keyId: 'tampered', kekId: 'kek-8A248E', keyBlock: tampered }),
      );
      expect((error as HsmError).code).toBe('ERR_TR31_MAC');
      expect((await hsm.listKeys()).map((k) => k.keyId)).not.toContain('tampered');
    });

    it('exports an exportable key as a TR-31 block that opens to the same key; refuses the others', async () => {
      if (lacks('tr31')) {
        await expectUnsupported(hsm.exportKey({ keyId: 'tr31-183122', kekId: 'kek-tdes' }));
      } else {
        await exportsAndReimports();
      }
      const error = await rejection(hsm.exportKey({ keyId: 'imk-ac', kekId: 'kek-tdes' }));
      expect((error as HsmError).code).toBe('ERR_HSM_NOT_EXPORTABLE');
      const generated = await hsm.generateKey({ keyId: 'gen-mac', algorithm: 'aes', usage: 'mac' });
      expect(generated.exportable).toBe(false);
      expect(
        ((await rejection(hsm.exportKey({ keyId: 'gen-mac', kekId: 'kek-tdes' }))) as HsmError).code,
      ).toBe('ERR_HSM_NOT_EXPORTABLE');
    });

    async function exportsAndReimports(): Promise<void> {
      const block = await hsm.exportKey({ keyId: 'tr31-183122', kekId: 'kek-tdes' });
      expect(block.slice(0, 1)).toBe('B');
      const opened = unwrapKeyBlock({ kbpk: kbpkTdes, keyBlock: block });
      expect(toHex(opened.key)).toBe('CCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD');
      expect(opened.header.keyUsage).toBe('M3');
      const again = await hsm.importKey({ keyId: 'reimported', kekId: 'kek-tdes', keyBlock: block });
      expect(again.kcv).toBe((await hsm.getKey('tr31-183122')).kcv);
    }

    it('derives the ICC master key (Option A) with the key check value of the published key', async () => {
      const ac = vector('ac', 'pyemv.VisaCVN10.arqc').inputs;
      if (lacks('emv-tdes')) {
        await expectUnsupported(hsm.deriveIccMasterKey({ imkId: 'imk-ac', pan: ac.pan, psn: ac.psn }));
        return;
      }
      const icc = await hsm.deriveIccMasterKey({ imkId: 'imk-ac', pan: ac.pan, psn: ac.psn, keyId: 'icc-1' });
      // CVN 10 uses the ICC master key itself as the session key, so its hex is in the vector.
      expect(icc.kcv).toBe(toHex(keyCheckValue(fromHex(ac.sk), { algorithm: 'tdes' })));
      expect(icc.usage).toBe('icc-mk-ac');
    });

    for (const v of loadVectors('ac')) {
      const cvn = cvnOf(v.id);
      it(`verifies the published ARQC of ${v.id} and produces the published ARPC`, async () => {
        const i = v.inputs;
        const arpcCase = loadVectors('arpc').find((a) => a.inputs.see_ac_vector === v.id)!;
        const request = {
          imkId: 'imk-ac',
          cvn,
          pan: i.pan,
          psn: i.psn,
          atc: fromHex(i.tags['9F36']),
          unpredictableNumber: fromHex(i.tags['9F37']),
          data: fromHex(i.mac_input_data),
          arqc: fromHex(v.expected.arqc),
        };
        const arpc = arpcCase.algorithm.includes('method 1')
          ? ({ method: 1, arc: fromHex(arpcCase.inputs.arpc_rc) } as const)
          : ({ method: 2, cardStatusUpdate: fromHex(arpcCase.inputs.csu) } as const);
        if (lacks('emv-tdes')) {
          await expectUnsupported(hsm.verifyArqc({ ...request, arpc }));
          return;
        }
        const result = await hsm.verifyArqc({ ...request, arpc });
        expect(toHex(result.arpc!)).toBe(arpcCase.expected.arpc);
        expect(await hsm.verifyArqc(request)).toEqual({});
        // Any changed bit of the cryptogram, the data or the ATC: the one fixed failure.
        const arqc = request.arqc.slice();
        arqc[7]! ^= 0x01;
        await expectVerificationFailure(hsm.verifyArqc({ ...request, arqc, arpc }));
        const data = request.data.slice();
        data[0]! ^= 0x80;
        await expectVerificationFailure(hsm.verifyArqc({ ...request, data }));
        // CVN 10 has no session key: its ATC is covered through the data only.
        if (cvn !== 10) await expectVerificationFailure(hsm.verifyArqc({ ...request, atc: fromHex('001D') }));
      });
    }

    it('verifies an AES CVN 22 cryptogram (EMV Book 2 A1.2.2) as @amulet/emv computes it', async () => {
      const imk = random(16);
      await hsm.importKeyComponents({
        keyId: 'imk-aes',
        algorithm: 'aes',
        usage: 'imk-ac',
        components: components(imk),
      });
      const card = { pan: '4761739001010010', psn: '01', atc: fromHex('002A'), data: random(37) };
      const arqc = computeCryptogram({ cvn: 22, imk, ...card });
      const icc = await hsm.deriveIccMasterKey({ imkId: 'imk-aes', pan: card.pan, psn: card.psn });
      const iccValue = deriveIccMasterKey({ imk, pan: card.pan, psn: card.psn, algorithm: 'aes' });
      expect(icc.kcv).toBe(toHex(keyCheckValue(iccValue, { algorithm: 'aes' })));
      const result = await hsm.verifyArqc({
        imkId: 'imk-aes',
        cvn: 22,
        ...card,
        arqc,
        arpc: { method: 2, cardStatusUpdate: fromHex('00820000') },
      });
      const keys = cryptogramKeys({ cvn: 22, imk, ...card });
      expect(toHex(result.arpc!)).toBe(
        toHex(arpcMethod2(keys.sessionKey, arqc, fromHex('00820000'), undefined, 'aes')),
      );
      const data = card.data.slice();
      data[36]! ^= 0x04;
      await expectVerificationFailure(hsm.verifyArqc({ imkId: 'imk-aes', cvn: 22, ...card, data, arqc }));
      await expectVerificationFailure(
        hsm.verifyArqc({ imkId: 'imk-aes', cvn: 22, ...card, atc: fromHex('002B'), arqc }),
      );
      await expectVerificationFailure(
        hsm.verifyArqc({ imkId: 'imk-aes', cvn: 22, ...card, arqc: random(8) }),
      );
    });

    it('refuses a key of another usage for an operation', async () => {
      const error = await rejection(
        hsm.generateMac({ keyId: 'kek-tdes', algorithm: 'cmac', data: random(8) }),
      );
      expect((error as HsmError).code).toBe('ERR_HSM_KEY_USAGE');
    });

    it('a MAC key deleted and made again under its id: MACs are the new key’s', async () => {
      const data = random(20);
      await hsm.generateKey({ keyId: 'remade-mac', algorithm: 'aes', length: 32, usage: 'mac' });
      const first = await hsm.generateMac({ keyId: 'remade-mac', algorithm: 'cmac', data });
      await hsm.deleteKey('remade-mac');
      await hsm.generateKey({ keyId: 'remade-mac', algorithm: 'aes', length: 32, usage: 'mac' });
      const second = await hsm.generateMac({ keyId: 'remade-mac', algorithm: 'cmac', data });
      expect(toHex(second)).not.toBe(toHex(first));
      await hsm.verifyMac({ keyId: 'remade-mac', algorithm: 'cmac', data, mac: second });
      await expectVerificationFailure(
        hsm.verifyMac({ keyId: 'remade-mac', algorithm: 'cmac', data, mac: first }),
      );
      await hsm.deleteKey('remade-mac');
    });

    it('generates and verifies MACs: ISO 9797-1 algorithm 3 and CMAC', async () => {
      const data = random(45);
      // The imported M3 key is CCCC...DDDD: the MAC must match the published algorithm.
      const { macIso9797Algorithm3, cmac } = await import('@amulet/emv');
      const key = fromHex('CCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD');
      const tdesCmac = await hsm.generateMac({ keyId: 'tr31-183122', algorithm: 'cmac', data });
      expect(toHex(tdesCmac)).toBe(toHex(cmac('tdes', key, data)));
      await hsm.verifyMac({ keyId: 'tr31-183122', algorithm: 'cmac', data, mac: tdesCmac });
      const other = data.slice();
      other[44]! ^= 1;
      await expectVerificationFailure(
        hsm.verifyMac({ keyId: 'tr31-183122', algorithm: 'cmac', data: other, mac: tdesCmac }),
      );
      const aesMac = await hsm.generateMac({ keyId: 'gen-mac', algorithm: 'cmac', data, length: 8 });
      expect(aesMac).toHaveLength(8);
      await hsm.verifyMac({ keyId: 'gen-mac', algorithm: 'cmac', data, mac: aesMac });
      const bad = aesMac.slice();
      bad[0]! ^= 1;
      await expectVerificationFailure(hsm.verifyMac({ keyId: 'gen-mac', algorithm: 'cmac', data, mac: bad }));
      await expectVerificationFailure(
        hsm.verifyMac({ keyId: 'gen-mac', algorithm: 'cmac', data, mac: aesMac.slice(0, 2) }),
      );
      if (lacks('iso9797-alg3')) {
        await expectUnsupported(hsm.generateMac({ keyId: 'tr31-183122', algorithm: 'iso9797-alg3', data }));
        return;
      }
      const retail = await hsm.generateMac({ keyId: 'tr31-183122', algorithm: 'iso9797-alg3', data });
      expect(toHex(retail)).toBe(toHex(macIso9797Algorithm3(key, data, 2)));
      await hsm.verifyMac({ keyId: 'tr31-183122', algorithm: 'iso9797-alg3', data, mac: retail });
      await expectVerificationFailure(
        hsm.verifyMac({ keyId: 'tr31-183122', algorithm: 'iso9797-alg3', data: other, mac: retail }),
      );
    });

    it('envelope encryption: a data key wraps, unwraps and rewraps under a new KEK', async () => {
      await hsm.generateKey({ keyId: 'dek-kek-1', algorithm: 'aes', usage: 'data-key-wrap' });
      await hsm.generateKey({ keyId: 'dek-kek-2', algorithm: 'aes', length: 16, usage: 'data-key-wrap' });
      const dataKey = await hsm.generateDataKey({ kekId: 'dek-kek-1' });
      expect(dataKey.plaintext).toHaveLength(32);
      expect(dataKey.wrapped).toHaveLength(40);
      expect(toHex(await hsm.decryptDataKey({ kekId: 'dek-kek-1', wrapped: dataKey.wrapped }))).toBe(
        toHex(dataKey.plaintext),
      );
      const rewrapped = await hsm.rewrapDataKey({
        fromKekId: 'dek-kek-1',
        toKekId: 'dek-kek-2',
        wrapped: dataKey.wrapped,
      });
      expect(toHex(rewrapped)).not.toBe(toHex(dataKey.wrapped));
      expect(toHex(await hsm.decryptDataKey({ kekId: 'dek-kek-2', wrapped: rewrapped }))).toBe(
        toHex(dataKey.plaintext),
      );
      const error = await rejection(hsm.decryptDataKey({ kekId: 'dek-kek-1', wrapped: rewrapped }));
      expect((error as HsmError).code).toBe('ERR_HSM_UNWRAP');
    });

    it('translates PIN blocks between format 0 (TDEA) and format 4 (AES) keys and back', async () => {
      const pan = '4761739001010010';
      const tdesPinKey = fromHex(vector('tr31', 'psec.tr31_B0080P0TE00E0000_8A248E').expected.key);
      const aesPinKey = fromHex(vector('tr31', 'psec.tr31_D0112P0AE00E0000_57DC34').expected.key);
      const format0 = encipherPinBlock({ format: 0, pin: '271828', pan, key: tdesPinKey });
      const format4 = await hsm.translatePinBlock({
        block: format0,
        pan,
        from: { keyId: 'tr31-8A248E', format: 0 },
        to: { keyId: 'tr31-57DC34', format: 4 },
      });
      expect(format4).toHaveLength(16);
      expect(decipherPinBlock({ format: 4, block: format4, pan, key: aesPinKey })).toBe('271828');
      const back = await hsm.translatePinBlock({
        block: format4,
        pan,
        from: { keyId: 'tr31-57DC34', format: 4 },
        to: { keyId: 'tr31-8A248E', format: 0 },
      });
      expect(toHex(back)).toBe(toHex(format0));
    });

    it('signs with ECDSA P-256; node:crypto verifies the DER signature with the exported public key', async () => {
      const key = await hsm.generateKey({ keyId: 'sign-1', algorithm: 'ec-p256', usage: 'signing' });
      expect(key.kcv).toBe('');
      const spki = Buffer.from(await hsm.getPublicKey('sign-1'));
      const message = random(100);
      const signature = await hsm.sign({ keyId: 'sign-1', message });
      expect(signature[0]).toBe(0x30);
      const verifier = createVerify('sha256').update(message);
      expect(verifier.verify({ key: spki, format: 'der', type: 'spki', dsaEncoding: 'der' }, signature)).toBe(
        true,
      );
      const changed = message.slice();
      changed[0]! ^= 1;
      expect(
        createVerify('sha256')
          .update(changed)
          .verify({ key: spki, format: 'der', type: 'spki', dsaEncoding: 'der' }, signature),
      ).toBe(false);
      expect(
        ((await rejection(hsm.exportKey({ keyId: 'sign-1', kekId: 'kek-tdes' }))) as HsmError).code,
      ).toBe('ERR_HSM_NOT_EXPORTABLE');
    });

    it('agrees an ECDH P-256 secret equal to node:crypto on the other side, or refuses as unsupported', async () => {
      const peer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const peerSpki = new Uint8Array(peer.publicKey.export({ format: 'der', type: 'spki' }));
      if (factory.unsupported?.includes('ecdh')) {
        const error = (await rejection(
          hsm.generateKey({ keyId: 'ka-1', algorithm: 'ec-p256', usage: 'key-agreement' }),
        )) as HsmError;
        expect(error.code).toBe('ERR_HSM_UNSUPPORTED');
        return;
      }
      await hsm.generateKey({ keyId: 'ka-1', algorithm: 'ec-p256', usage: 'key-agreement' });
      const spki = await hsm.getPublicKey('ka-1');
      const z = await hsm.deriveSharedSecret({ keyId: 'ka-1', peerPublicKey: peerSpki });
      const expected = diffieHellman({
        privateKey: peer.privateKey,
        publicKey: createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }),
      });
      expect(toHex(z)).toBe(toHex(new Uint8Array(expected)));
      // A key of another usage is refused; so is a peer key that is not P-256.
      expect(
        ((await rejection(hsm.deriveSharedSecret({ keyId: 'sign-1', peerPublicKey: peerSpki }))) as HsmError)
          .code,
      ).toBe('ERR_HSM_KEY_USAGE');
      expect(
        ((await rejection(hsm.deriveSharedSecret({ keyId: 'ka-1', peerPublicKey: random(40) }))) as HsmError)
          .code,
      ).toBe('ERR_HSM_DATA');
    });

    it('error messages carry no key material', async () => {
      const errors = await Promise.all([
        rejection(hsm.importKey({ kekId: 'kek-tdes', keyBlock: 'B0016P0TE00E0000' })),
        rejection(hsm.getKey('missing')),
        rejection(hsm.generateKey({ algorithm: 'tdes', length: 8, usage: 'kek' })),
      ]);
      for (const error of errors) {
        expect(error).toBeInstanceOf(Error);
        expect(String((error as Error).message)).not.toMatch(/AAAAAAAA|CCCCCCCC|0123456789ABCDEF/);
      }
    });

    it('keeps every key across a reopening of the keystore', async () => {
      const before = new Map((await hsm.listKeys()).map((k): [string, KeyAttributes] => [k.keyId, k]));
      const spki = toHex(await hsm.getPublicKey('sign-1'));
      const dataKey = await hsm.generateDataKey({ kekId: 'dek-kek-2' });
      await hsm.close();
      hsm = await factory.open();
      const after = new Map((await hsm.listKeys()).map((k): [string, KeyAttributes] => [k.keyId, k]));
      expect(after).toEqual(before);
      expect(toHex(await hsm.getPublicKey('sign-1'))).toBe(spki);
      expect(toHex(await hsm.decryptDataKey({ kekId: 'dek-kek-2', wrapped: dataKey.wrapped }))).toBe(
        toHex(dataKey.plaintext),
      );
      const v = vector('ac', 'pyemv.VisaCVN18.arqc').inputs;
      const imkKcv = toHex(keyCheckValue(imkValue, { algorithm: 'tdes' }));
      expect((await hsm.getKey('imk-ac')).kcv).toBe(imkKcv);
      const doomed = lacks('tr31') ? 'gen-mac' : 'reimported';
      await hsm.deleteKey(doomed);
      expect((await hsm.listKeys()).map((k) => k.keyId)).not.toContain(doomed);
      if (lacks('emv-tdes')) return;
      await hsm.verifyArqc({
        imkId: 'imk-ac',
        cvn: 18,
        pan: v.pan,
        psn: v.psn,
        atc: fromHex(v.tags['9F36']),
        data: fromHex(v.mac_input_data),
        arqc: fromHex(vector('ac', 'pyemv.VisaCVN18.arqc').expected.arqc),
      });
    });
  });
}
