import { randomBytes } from 'node:crypto';
import {
  createChainVerifier,
  finishPhoneHandshake,
  finishWearableHandshake,
  respondWearableHandshake,
  type SecureLinkSession,
  startPhoneHandshake,
} from '../../src/index.ts';
import { NOW, type TestHierarchy } from './test-hierarchy.ts';

/** A P-256 scalar: 32 random bytes with the top bit cleared, always below the group order. */
export function ephemeral(): Uint8Array {
  const key = new Uint8Array(randomBytes(32));
  key[0]! &= 0x7f;
  return key;
}

export interface LinkedPair {
  readonly phone: SecureLinkSession;
  readonly wearable: SecureLinkSession;
  readonly sas: readonly [string, string];
}

export async function linkedPair(h: TestHierarchy): Promise<LinkedPair> {
  const verifier = createChainVerifier({ trustAnchors: [h.root.der], tenantId: 'tenant-a' });
  const phone = startPhoneHandshake({
    ephemeralPrivateKey: ephemeral(),
    random: new Uint8Array(randomBytes(32)),
  });
  const wearable = await respondWearableHandshake({
    phoneHello: phone.message,
    ephemeralPrivateKey: ephemeral(),
    random: new Uint8Array(randomBytes(32)),
    chain: [h.device.der, h.deviceCaA.der],
    signer: h.device.key.signer,
  });
  const done = finishPhoneHandshake(phone.state, wearable.message, (chain) =>
    verifier.verify({ chain, nowMs: NOW.getTime(), purpose: 'device', revocation: () => 'good' }),
  );
  return {
    phone: done.session,
    wearable: finishWearableHandshake(wearable.state, done.message),
    sas: [done.sas, wearable.sas],
  };
}
