import { createHash } from 'node:crypto';
import {
  type CdcvmPolicy,
  inProcessTransport,
  loadSandboxCards,
  memoryBlobStore,
  memoryCounter,
  SecureElement,
  type SeTransport,
} from '@amulet/secure-element';

/** A deterministic byte source: SHA-256 of seed and counter, so a run replays from its seed. */
export function seededBytes(seed: string): (n: number) => Uint8Array {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let filled = 0; filled < n; filled += 32) {
      const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, n - filled)), filled);
    }
    return out;
  };
}

export interface Wearable {
  readonly se: SecureElement;
  readonly transport: SeTransport;
  readonly now: { ms: number };
}

/** A secure element holding the sandbox cards (or the named ones, first = default), PIN 1234 set. */
export function wearable(ids?: readonly string[], policy?: CdcvmPolicy): Wearable {
  const now = { ms: 1_000_000 };
  const se = SecureElement.open({
    deviceKey: new Uint8Array(32).fill(7),
    rng: seededBytes('wearable'),
    clock: () => now.ms,
    blobs: memoryBlobStore(),
    counter: memoryCounter(),
    ...(policy === undefined ? {} : { cdcvmPolicy: policy }),
  });
  loadSandboxCards(se, ids);
  se.enrollPin('1234');
  return { se, transport: inProcessTransport(se), now };
}
