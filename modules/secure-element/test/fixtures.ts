import { createHash } from 'node:crypto';
import { fromHex } from '@amulet/bytes';
import {
  type BlobStore,
  type CdcvmPolicy,
  type MonotonicCounter,
  memoryBlobStore,
  memoryCounter,
  SecureElement,
  type SecureElementOptions,
} from '../src/index.ts';

/** A deterministic rng: SHA-256 of seed || counter, so every run replays. */
export function seededRng(seed: string): (n: number) => Uint8Array {
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

export const DEVICE_KEY = fromHex('00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF');

export interface Rig {
  se: SecureElement;
  blobs: BlobStore & { blob: Uint8Array | undefined };
  counter: MonotonicCounter;
  now: { ms: number };
  reopen(): SecureElement;
}

export function rig(
  options: { seed?: string; policy?: CdcvmPolicy; scp03?: SecureElementOptions['scp03'] } = {},
): Rig {
  const blobs = memoryBlobStore();
  const counter = memoryCounter();
  const now = { ms: 1_000_000 };
  const rng = seededRng(options.seed ?? 'secure-element');
  const open = () =>
    SecureElement.open({
      deviceKey: DEVICE_KEY,
      rng,
      clock: () => now.ms,
      blobs,
      counter,
      ...(options.policy === undefined ? {} : { cdcvmPolicy: options.policy }),
      ...(options.scp03 === undefined ? {} : { scp03: options.scp03 }),
    });
  return { se: open(), blobs, counter, now, reopen: open };
}

export const UN = fromHex('01020304');
