import { fromHex, toHex } from '@amulet/bytes';
import { describe, expect, it } from 'vitest';
import {
  createChainVerifier,
  deriveLinkKeys,
  finishPhoneHandshake,
  finishWearableHandshake,
  respondWearableHandshake,
  type Signer,
  startPhoneHandshake,
} from '../src/index.ts';
import vectors from './vectors/secure-link.json' with { type: 'json' };

describe('secure link test vectors (docs/protocols/secure-link.md)', () => {
  for (const vector of vectors.cases) {
    it(vector.id, async () => {
      const chain = vector.chain.map(fromHex);
      const verifier = createChainVerifier({
        trustAnchors: [fromHex(vector.rootCertificate)],
        tenantId: vector.tenantId,
      });
      const checkChain = (c: readonly Uint8Array[]) =>
        verifier.verify({ chain: c, nowMs: vector.nowMs, purpose: 'device', revocation: () => 'good' });
      const leafKey = checkChain(chain);
      expect(leafKey.status).toBe('valid');
      // The recorded signature stands in for the secure element; the phone still verifies it.
      const recorded: Signer = {
        algorithm: 'ES256',
        publicKeySpki: () =>
          leafKey.status === 'valid' ? leafKey.leaf.subjectPublicKeyInfo : new Uint8Array(),
        sign: async () => fromHex(vector.wearableSignature),
      };
      const phone = startPhoneHandshake({
        ephemeralPrivateKey: fromHex(vector.phoneEphemeralPrivateKey),
        random: fromHex(vector.phoneRandom),
      });
      expect(toHex(phone.message)).toBe(vector.phoneHello);
      const wearable = await respondWearableHandshake({
        phoneHello: phone.message,
        ephemeralPrivateKey: fromHex(vector.wearableEphemeralPrivateKey),
        random: fromHex(vector.wearableRandom),
        chain,
        signer: recorded,
      });
      expect(toHex(wearable.message)).toBe(vector.wearableHello);
      expect(wearable.sas).toBe(vector.sas);
      const keys = deriveLinkKeys(fromHex(vector.sharedSecret), fromHex(vector.transcriptHash));
      for (const [name, hex] of Object.entries(vector.keys))
        expect(toHex(keys[name as keyof typeof keys] as Uint8Array)).toBe(hex);
      const phoneDone = finishPhoneHandshake(phone.state, wearable.message, checkChain);
      expect(toHex(phoneDone.message)).toBe(vector.phoneFinished);
      expect(phoneDone.sas).toBe(vector.sas);
      const wearableSession = finishWearableHandshake(wearable.state, phoneDone.message);
      expect(toHex(wearableSession.seal(fromHex(vector.wearableFirstRecord.plaintext)))).toBe(
        vector.wearableFirstRecord.record,
      );
      expect(toHex(phoneDone.session.seal(fromHex(vector.phoneFirstRecord.plaintext)))).toBe(
        vector.phoneFirstRecord.record,
      );
      const opened = phoneDone.session.open(fromHex(vector.wearableFirstRecord.record));
      expect(opened.kind === 'data' && toHex(opened.data)).toBe(vector.wearableFirstRecord.plaintext);
    });
  }
});
