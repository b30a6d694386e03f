import { createHash, createHmac, hkdfSync } from 'node:crypto';

/** Everything the handshake derives from the ECDH secret and the transcript hash. */
export interface LinkKeys {
  readonly wearableWriteKey: Uint8Array;
  readonly wearableWriteIv: Uint8Array;
  readonly phoneWriteKey: Uint8Array;
  readonly phoneWriteIv: Uint8Array;
  readonly wearableFinishedKey: Uint8Array;
  readonly phoneFinishedKey: Uint8Array;
  /** Six decimal digits both screens show while pairing. */
  readonly sas: string;
}

const LABELS = {
  wearableWriteKey: ['w2p key', 32],
  wearableWriteIv: ['w2p iv', 12],
  phoneWriteKey: ['p2w key', 32],
  phoneWriteIv: ['p2w iv', 12],
  wearableFinishedKey: ['w finished', 32],
  phoneFinishedKey: ['p finished', 32],
} as const;

function expand(secret: Uint8Array, transcriptHash: Uint8Array, label: string, length: number): Uint8Array {
  // RFC 5869: PRK = HKDF-Extract(salt = transcript hash, IKM = ECDH secret); OKM = HKDF-Expand(PRK, info, L).
  return new Uint8Array(hkdfSync('sha256', secret, transcriptHash, `amulet-link-v1 ${label}`, length));
}

/** The key schedule of docs/protocols/secure-link.md, "Key schedule". */
export function deriveLinkKeys(sharedSecret: Uint8Array, transcriptHash: Uint8Array): LinkKeys {
  const out: Record<string, Uint8Array> = {};
  for (const [name, [label, length]] of Object.entries(LABELS)) {
    out[name] = expand(sharedSecret, transcriptHash, label, length);
  }
  const sasBytes = expand(sharedSecret, transcriptHash, 'sas', 8);
  const sasValue = Buffer.from(sasBytes).readBigUInt64BE(0) % 1_000_000n;
  return { ...(out as Omit<LinkKeys, 'sas'>), sas: sasValue.toString().padStart(6, '0') };
}

export function sha256(...parts: readonly Uint8Array[]): Uint8Array {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(data).digest());
}
