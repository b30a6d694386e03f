import { createECDH, type ECDH } from 'node:crypto';
import { concat, constantTimeEqual } from '@amulet/bytes';
import type { ChainResult } from '../chain-verifier.ts';
import { verifyEcdsa } from '../ecdsa-verify.ts';
import { signDer } from '../sign-der.ts';
import type { Signer } from '../signer.ts';
import {
  decodePhoneFinished,
  decodePhoneHello,
  decodeWearableHello,
  encodePhoneFinished,
  encodePhoneHello,
  encodeWearableBody,
  encodeWearableSignedPart,
  RANDOM_BYTES,
} from './handshake-messages.ts';
import { deriveLinkKeys, hmacSha256, type LinkKeys, sha256 } from './key-schedule.ts';
import { LinkError } from './link-error.ts';
import { SecureLinkSession } from './secure-link-session.ts';

/** Prefix of what the wearable signs (docs/protocols/secure-link.md, "Wearable hello"). */
const SIGNATURE_LABEL = new TextEncoder().encode('AMULET-LINK-V1 wearable\0');

export interface EphemeralInput {
  /** A fresh P-256 private scalar (32 bytes), drawn by the caller and used once. */
  readonly ephemeralPrivateKey: Uint8Array;
  /** 32 fresh random bytes. */
  readonly random: Uint8Array;
}

function ecdh(privateKey: Uint8Array): ECDH {
  if (privateKey.length !== 32)
    throw new LinkError('ERR_LINK_MESSAGE', 'ephemeral private key must be 32 bytes');
  const ecdhKey = createECDH('prime256v1');
  try {
    ecdhKey.setPrivateKey(privateKey);
  } catch {
    throw new LinkError('ERR_LINK_MESSAGE', 'ephemeral private key is not a valid P-256 scalar');
  }
  return ecdhKey;
}

function checkRandom(random: Uint8Array): void {
  if (random.length !== RANDOM_BYTES)
    throw new LinkError('ERR_LINK_MESSAGE', `random must be ${RANDOM_BYTES} bytes`);
}

/** ECDH x-coordinate (SEC 1 section 3.3.1); a point off the curve is the peer's fault. */
function sharedSecret(own: ECDH, peerPoint: Uint8Array): Uint8Array {
  try {
    return new Uint8Array(own.computeSecret(peerPoint));
  } catch {
    throw new LinkError('ERR_LINK_MESSAGE', 'peer ephemeral key is not a P-256 point');
  }
}

function peerFailure(reason: string): LinkError {
  return new LinkError('ERR_LINK_PEER', 'secure link handshake failed', reason);
}

export interface PhoneHandshake {
  readonly phoneHello: Uint8Array;
  readonly ecdh: ECDH;
}

/** Step 1, phone: the phone hello. */
export function startPhoneHandshake(input: EphemeralInput): { message: Uint8Array; state: PhoneHandshake } {
  checkRandom(input.random);
  const own = ecdh(input.ephemeralPrivateKey);
  const message = encodePhoneHello({
    ephemeralPublicKey: new Uint8Array(own.getPublicKey()),
    random: input.random,
  });
  return { message, state: { phoneHello: message, ecdh: own } };
}

export interface WearableHandshake {
  readonly keys: LinkKeys;
  /** The phone's key confirmation the wearable expects (docs/protocols/secure-link.md, "Phone finished"). */
  readonly expectedPhoneFinished: Uint8Array;
}

export interface WearableRespondInput extends EphemeralInput {
  readonly phoneHello: Uint8Array;
  /** The wearable's device certificate, then its device CA (DER). */
  readonly chain: readonly Uint8Array[];
  /** The device key (in the secure element). */
  readonly signer: Signer;
}

/** Step 2, wearable: verify nothing yet, sign the transcript, send the hello with key confirmation. */
export async function respondWearableHandshake(
  input: WearableRespondInput,
): Promise<{ message: Uint8Array; state: WearableHandshake; sas: string }> {
  checkRandom(input.random);
  const phone = decodePhoneHello(input.phoneHello);
  const own = ecdh(input.ephemeralPrivateKey);
  const secret = sharedSecret(own, phone.ephemeralPublicKey);
  const signedPart = encodeWearableSignedPart(new Uint8Array(own.getPublicKey()), input.random, input.chain);
  const signature = await signDer(
    input.signer,
    concat(SIGNATURE_LABEL, sha256(input.phoneHello, signedPart)),
  );
  const body = encodeWearableBody(signedPart, signature);
  const transcriptHash = sha256(input.phoneHello, body);
  const keys = deriveLinkKeys(secret, transcriptHash);
  const message = concat(body, hmacSha256(keys.wearableFinishedKey, transcriptHash));
  const expectedPhoneFinished = hmacSha256(keys.phoneFinishedKey, sha256(input.phoneHello, message));
  return { message, state: { keys, expectedPhoneFinished }, sas: keys.sas };
}

/** Verifies the wearable's certificate chain; usually a device-purpose `ChainVerifier` bound to a clock and revocation source. */
export type WearableChainCheck = (chain: readonly Uint8Array[]) => ChainResult;

/**
 * Step 3, phone: check the wearable's chain, its signature and its key confirmation, then send
 * the phone's key confirmation. Returns the session and the SAS to show.
 */
export function finishPhoneHandshake(
  state: PhoneHandshake,
  wearableHello: Uint8Array,
  checkChain: WearableChainCheck,
): {
  message: Uint8Array;
  session: SecureLinkSession;
  sas: string;
  chain: ChainResult & { status: 'valid' };
} {
  const hello = decodeWearableHello(wearableHello);
  const chain = checkChain(hello.chain);
  if (chain.status !== 'valid') throw peerFailure(chain.reason);
  const signed = concat(SIGNATURE_LABEL, sha256(state.phoneHello, hello.signedPart));
  const digest = chain.leaf.publicKey.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'sha384' : 'sha256';
  if (!verifyEcdsa(chain.leaf.publicKey, digest, signed, hello.signature)) throw peerFailure('bad-signature');
  const secret = sharedSecret(state.ecdh, hello.ephemeralPublicKey);
  const transcriptHash = sha256(state.phoneHello, hello.body);
  const keys = deriveLinkKeys(secret, transcriptHash);
  if (!constantTimeEqual(hmacSha256(keys.wearableFinishedKey, transcriptHash), hello.finished)) {
    throw peerFailure('bad-key-confirmation');
  }
  const mac = hmacSha256(keys.phoneFinishedKey, sha256(state.phoneHello, wearableHello));
  const session = new SecureLinkSession(
    keys.phoneWriteKey,
    keys.phoneWriteIv,
    keys.wearableWriteKey,
    keys.wearableWriteIv,
  );
  return { message: encodePhoneFinished(mac), session, sas: keys.sas, chain };
}

/** Step 4, wearable: check the phone's key confirmation and open the session. */
export function finishWearableHandshake(
  state: WearableHandshake,
  phoneFinished: Uint8Array,
): SecureLinkSession {
  const mac = decodePhoneFinished(phoneFinished);
  if (!constantTimeEqual(state.expectedPhoneFinished, mac)) throw peerFailure('bad-key-confirmation');
  const { keys } = state;
  return new SecureLinkSession(
    keys.wearableWriteKey,
    keys.wearableWriteIv,
    keys.phoneWriteKey,
    keys.phoneWriteIv,
  );
}
