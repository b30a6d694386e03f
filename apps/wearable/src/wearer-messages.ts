import { ByteReader, concat, fromHex, toHex } from '@amulet/bytes';
import { WearableError } from './wearable-error.ts';

/**
 * The one protocol between the companion phone and the wearable, carried inside the secure link's
 * application-data records (docs/protocols/secure-link.md; docs/companion.md, "Wearer messages").
 *
 * Every message is `u8(version) || u8(type) || body`, version `0x01`; lengths are big-endian and
 * each has a bound, and a whole message fits in one record (16 384 bytes of plaintext). A
 * message with another version, an unknown type, a length out of bounds, or bytes left over is
 * refused with one fixed error (`ERR_WEARABLE_MESSAGE`) that echoes nothing. The PIN travels
 * only here, inside an AES-GCM record: no server ever sees it (DESIGN.md flow 3).
 */
export type WearerRequest =
  | { readonly kind: 'enroll-pin'; readonly pin: string }
  | { readonly kind: 'verify-pin'; readonly pin: string }
  | { readonly kind: 'attest'; readonly nonce: Uint8Array; readonly context: Uint8Array }
  | { readonly kind: 'apdu'; readonly command: Uint8Array }
  | { readonly kind: 'command'; readonly command: DeviceCommandKind; readonly tokenReference: string }
  | { readonly kind: 'cards' };

/** The wallet's device commands (its push channel), relayed by the companion (DESIGN.md flows 7, 8). */
export type DeviceCommandKind = 'lock' | 'unlock' | 'set-default' | 'delete-applet' | 'wipe';
export const DEVICE_COMMANDS: readonly DeviceCommandKind[] = [
  'lock',
  'unlock',
  'set-default',
  'delete-applet',
  'wipe',
];

export type PinStatus = 'verified' | 'wrong' | 'blocked' | 'not-enrolled' | 'enrolled' | 'refused';
export const PIN_STATUSES: readonly PinStatus[] = [
  'verified',
  'wrong',
  'blocked',
  'not-enrolled',
  'enrolled',
  'refused',
];

export type WearableCardStatus = 'active' | 'suspended';
const CARD_STATUSES: readonly WearableCardStatus[] = ['active', 'suspended'];

/** A payment applet as the wearable reports it: no DPAN, no key, only what a screen shows. */
export interface WearableCard {
  readonly id: string;
  /** The instance AID, hexadecimal upper case. */
  readonly aid: string;
  readonly status: WearableCardStatus;
  /** First in the PPSE: the card the next tap uses (DESIGN.md flow 7). */
  readonly isDefault: boolean;
}

export type WearerResponse =
  | { readonly kind: 'pin'; readonly status: PinStatus; readonly triesLeft: number }
  | {
      readonly kind: 'attestation';
      readonly chain: readonly Uint8Array[];
      /** What the secure element signed: the caller's context inside its TLV, with its state. */
      readonly context: Uint8Array;
      readonly signature: Uint8Array;
    }
  | { readonly kind: 'apdu'; readonly response: Uint8Array }
  | { readonly kind: 'done' }
  | { readonly kind: 'cards'; readonly cards: readonly WearableCard[] }
  | { readonly kind: 'error'; readonly code: number };

/** The error codes of an `error` response (one byte), in the order the wearable checks them. */
export const WEARER_ERROR_CODES = {
  /** The request did not parse. */
  message: 1,
  /** The wearable will not do it: an attestation for a code it did not show, or a "found" without a verified PIN. */
  refused: 2,
  /** A PIN verification while the wearable is off the wrist: a CDCVM session needs the wrist. */
  offWrist: 3,
  /** The secure element refused (no such card, tampered, the PIN already set...). */
  secureElement: 4,
} as const;

export const WEARER_MESSAGE_VERSION = 0x01;
/** The secure link's largest record plaintext (docs/protocols/secure-link.md, "Records"). */
export const WEARER_MESSAGE_BYTES_MAX = 16_384;
/** An APDU in one message: a short APDU always fits; an extended one up to this size. */
export const WEARER_APDU_BYTES_MAX = WEARER_MESSAGE_BYTES_MAX - 4;

const TYPE = {
  enrollPin: 0x01,
  verifyPin: 0x02,
  attest: 0x03,
  apdu: 0x04,
  command: 0x05,
  cards: 0x06,
  pin: 0x81,
  attestation: 0x83,
  apduResponse: 0x84,
  done: 0x85,
  cardList: 0x86,
  error: 0xff,
} as const;

const PIN_PATTERN = /^\d{4,12}$/;
const CARD_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
const NONCE_BYTES_MAX = 64;
const CONTEXT_BYTES_MAX = 1024;
const SIGNED_CONTEXT_BYTES_MAX = 2048;
const SIGNATURE_BYTES_MAX = 255;
const CERTS_MAX = 3;
const CERT_BYTES_MAX = 2048;
const TOKEN_REFERENCE_MAX = 128;
const CARDS_MAX = 16;
const AID_BYTES_MIN = 5; // ISO/IEC 7816-4 8.2.1.2: an AID is 5 to 16 bytes
const AID_BYTES_MAX = 16;

const fail = (): WearableError => new WearableError('ERR_WEARABLE_MESSAGE', 'malformed wearer message');
const check = (ok: boolean): void => {
  if (!ok) throw fail();
};
const u16 = (n: number) => Uint8Array.of(n >> 8, n & 0xff);
const utf8 = (text: string) => new TextEncoder().encode(text);
const head = (type: number) => Uint8Array.of(WEARER_MESSAGE_VERSION, type);

export function encodeWearerRequest(request: WearerRequest): Uint8Array {
  switch (request.kind) {
    case 'enroll-pin':
    case 'verify-pin':
      check(PIN_PATTERN.test(request.pin));
      return concat(
        head(request.kind === 'enroll-pin' ? TYPE.enrollPin : TYPE.verifyPin),
        Uint8Array.of(request.pin.length),
        utf8(request.pin),
      );
    case 'attest':
      check(request.nonce.length >= 1 && request.nonce.length <= NONCE_BYTES_MAX);
      check(request.context.length <= CONTEXT_BYTES_MAX);
      return concat(
        head(TYPE.attest),
        Uint8Array.of(request.nonce.length),
        request.nonce,
        u16(request.context.length),
        request.context,
      );
    case 'apdu':
      check(request.command.length >= 4 && request.command.length <= WEARER_APDU_BYTES_MAX);
      return concat(head(TYPE.apdu), u16(request.command.length), request.command);
    case 'command': {
      const reference = utf8(request.tokenReference);
      const index = DEVICE_COMMANDS.indexOf(request.command);
      check(index >= 0 && reference.length <= TOKEN_REFERENCE_MAX);
      return concat(head(TYPE.command), Uint8Array.of(index, reference.length), reference);
    }
    case 'cards':
      return head(TYPE.cards);
  }
}

/** Reads one message: its version, then `read` for the body, then nothing may be left. */
function guard<T>(message: Uint8Array, read: (type: number, r: ByteReader) => T): T {
  if (!(message instanceof Uint8Array) || message.length < 2 || message.length > WEARER_MESSAGE_BYTES_MAX)
    throw fail();
  const r = new ByteReader(message);
  let value: T;
  try {
    check(r.readUint8() === WEARER_MESSAGE_VERSION);
    value = read(r.readUint8(), r);
  } catch {
    throw fail();
  }
  if (r.remaining !== 0) throw fail();
  return value;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeWearerRequest(message: Uint8Array): WearerRequest {
  return guard<WearerRequest>(message, (type, r) => {
    switch (type) {
      case TYPE.enrollPin:
      case TYPE.verifyPin: {
        const pin = strictUtf8.decode(r.readBytes(r.readUint8()));
        check(PIN_PATTERN.test(pin));
        return type === TYPE.enrollPin ? { kind: 'enroll-pin', pin } : { kind: 'verify-pin', pin };
      }
      case TYPE.attest: {
        const nonceLength = r.readUint8();
        check(nonceLength >= 1 && nonceLength <= NONCE_BYTES_MAX);
        const nonce = new Uint8Array(r.readBytes(nonceLength));
        const contextLength = r.readUint16();
        check(contextLength <= CONTEXT_BYTES_MAX);
        return { kind: 'attest', nonce, context: new Uint8Array(r.readBytes(contextLength)) };
      }
      case TYPE.apdu: {
        const n = r.readUint16();
        check(n >= 4 && n <= WEARER_APDU_BYTES_MAX);
        return { kind: 'apdu', command: new Uint8Array(r.readBytes(n)) };
      }
      case TYPE.command: {
        const command = DEVICE_COMMANDS[r.readUint8()];
        const n = r.readUint8();
        check(command !== undefined && n <= TOKEN_REFERENCE_MAX);
        const tokenReference = strictUtf8.decode(r.readBytes(n));
        return { kind: 'command', command: command!, tokenReference };
      }
      case TYPE.cards:
        return { kind: 'cards' };
      default:
        throw fail();
    }
  });
}

export function encodeWearerResponse(response: WearerResponse): Uint8Array {
  switch (response.kind) {
    case 'pin': {
      const status = PIN_STATUSES.indexOf(response.status);
      check(status >= 0 && Number.isInteger(response.triesLeft));
      check(response.triesLeft >= 0 && response.triesLeft <= 255);
      return concat(head(TYPE.pin), Uint8Array.of(status, response.triesLeft));
    }
    case 'attestation': {
      check(response.chain.length >= 1 && response.chain.length <= CERTS_MAX);
      check(response.signature.length >= 1 && response.signature.length <= SIGNATURE_BYTES_MAX);
      check(response.context.length <= SIGNED_CONTEXT_BYTES_MAX);
      const parts: Uint8Array[] = [head(TYPE.attestation), Uint8Array.of(response.chain.length)];
      for (const der of response.chain) {
        check(der.length >= 1 && der.length <= CERT_BYTES_MAX);
        parts.push(u16(der.length), der);
      }
      parts.push(
        Uint8Array.of(response.signature.length),
        response.signature,
        u16(response.context.length),
        response.context,
      );
      return concat(...parts);
    }
    case 'apdu':
      // A response APDU is at least its status word (ISO/IEC 7816-4 5.1).
      check(response.response.length >= 2 && response.response.length <= WEARER_APDU_BYTES_MAX);
      return concat(head(TYPE.apduResponse), u16(response.response.length), response.response);
    case 'done':
      return head(TYPE.done);
    case 'cards': {
      check(response.cards.length <= CARDS_MAX);
      const parts: Uint8Array[] = [head(TYPE.cardList), Uint8Array.of(response.cards.length)];
      for (const card of response.cards) {
        check(CARD_ID_PATTERN.test(card.id) && /^([0-9A-F]{2}){5,16}$/.test(card.aid));
        const status = CARD_STATUSES.indexOf(card.status);
        check(status >= 0);
        const aid = fromHex(card.aid);
        parts.push(Uint8Array.of(card.id.length), utf8(card.id), Uint8Array.of(aid.length), aid);
        parts.push(Uint8Array.of(status, card.isDefault ? 1 : 0));
      }
      return concat(...parts);
    }
    case 'error':
      check(Number.isInteger(response.code) && response.code >= 0 && response.code <= 255);
      return concat(head(TYPE.error), Uint8Array.of(response.code));
  }
}

export function decodeWearerResponse(message: Uint8Array): WearerResponse {
  return guard<WearerResponse>(message, (type, r) => {
    switch (type) {
      case TYPE.pin: {
        const status = PIN_STATUSES[r.readUint8()];
        check(status !== undefined);
        return { kind: 'pin', status: status!, triesLeft: r.readUint8() };
      }
      case TYPE.attestation: {
        const count = r.readUint8();
        check(count >= 1 && count <= CERTS_MAX);
        const chain: Uint8Array[] = [];
        for (let i = 0; i < count; i++) {
          const n = r.readUint16();
          check(n >= 1 && n <= CERT_BYTES_MAX);
          chain.push(new Uint8Array(r.readBytes(n)));
        }
        const signatureLength = r.readUint8();
        check(signatureLength >= 1);
        const signature = new Uint8Array(r.readBytes(signatureLength));
        const contextLength = r.readUint16();
        check(contextLength <= SIGNED_CONTEXT_BYTES_MAX);
        return { kind: 'attestation', chain, signature, context: new Uint8Array(r.readBytes(contextLength)) };
      }
      case TYPE.apduResponse: {
        const n = r.readUint16();
        check(n >= 2 && n <= WEARER_APDU_BYTES_MAX);
        return { kind: 'apdu', response: new Uint8Array(r.readBytes(n)) };
      }
      case TYPE.done:
        return { kind: 'done' };
      case TYPE.cardList: {
        const count = r.readUint8();
        check(count <= CARDS_MAX);
        const cards: WearableCard[] = [];
        for (let i = 0; i < count; i++) {
          const id = strictUtf8.decode(r.readBytes(r.readUint8()));
          const aidLength = r.readUint8();
          check(CARD_ID_PATTERN.test(id) && aidLength >= AID_BYTES_MIN && aidLength <= AID_BYTES_MAX);
          const aid = toHex(r.readBytes(aidLength));
          const status = CARD_STATUSES[r.readUint8()];
          const flag = r.readUint8();
          check(status !== undefined && flag <= 1);
          cards.push({ id, aid, status: status!, isDefault: flag === 1 });
        }
        return { kind: 'cards', cards };
      }
      case TYPE.error:
        return { kind: 'error', code: r.readUint8() };
      default:
        throw fail();
    }
  });
}
