import { ByteReader, concat } from '@amulet/bytes';
import { CompanionError } from './companion-error.ts';

/**
 * The messages the companion and the wearable exchange inside secure-link records
 * (docs/companion.md, "Wearer messages"). Each is `u8(type) || body`; lengths are big-endian.
 * The PIN travels only here, inside an AES-GCM record of the secure link.
 */
export type WearerRequest =
  | { readonly kind: 'enroll-pin'; readonly pin: string }
  | { readonly kind: 'verify-pin'; readonly pin: string }
  | { readonly kind: 'attest'; readonly nonce: Uint8Array; readonly context: Uint8Array }
  | { readonly kind: 'apdu'; readonly command: Uint8Array }
  | { readonly kind: 'command'; readonly command: DeviceCommandKind; readonly tokenReference: string };

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
  | { readonly kind: 'error'; readonly code: number };

const TYPE = {
  enrollPin: 0x01,
  verifyPin: 0x02,
  attest: 0x03,
  apdu: 0x04,
  command: 0x05,
  pin: 0x81,
  attestation: 0x83,
  apduResponse: 0x84,
  done: 0x85,
  error: 0xff,
} as const;

const PIN_PATTERN = /^\d{4,12}$/;
const CERTS_MAX = 3;
const CERT_BYTES_MAX = 2048;
const APDU_BYTES_MAX = 65_544; // ISO/IEC 7816-4 extended length: header, Lc (3), 65 535 data, Le (2)
const TOKEN_REFERENCE_MAX = 128;

const fail = (): CompanionError => new CompanionError('ERR_COMPANION_WEARABLE', 'malformed wearer message');
const u16 = (n: number) => Uint8Array.of(n >> 8, n & 0xff);
const ascii = (text: string) => new TextEncoder().encode(text);
const u32 = (n: number) => Uint8Array.of(n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);

export function encodeWearerRequest(request: WearerRequest): Uint8Array {
  switch (request.kind) {
    case 'enroll-pin':
    case 'verify-pin':
      if (!PIN_PATTERN.test(request.pin))
        throw new CompanionError('ERR_COMPANION_STATE', 'a PIN is 4 to 12 digits');
      return concat(
        Uint8Array.of(request.kind === 'enroll-pin' ? TYPE.enrollPin : TYPE.verifyPin, request.pin.length),
        ascii(request.pin),
      );
    case 'attest':
      if (request.nonce.length > 255 || request.context.length > 1024) throw fail();
      return concat(
        Uint8Array.of(TYPE.attest, request.nonce.length),
        request.nonce,
        u16(request.context.length),
        request.context,
      );
    case 'apdu':
      if (request.command.length > APDU_BYTES_MAX) throw fail();
      return concat(Uint8Array.of(TYPE.apdu), u32(request.command.length), request.command);
    case 'command': {
      const reference = ascii(request.tokenReference);
      if (reference.length > TOKEN_REFERENCE_MAX) throw fail();
      return concat(
        Uint8Array.of(TYPE.command, DEVICE_COMMANDS.indexOf(request.command), reference.length),
        reference,
      );
    }
  }
}

function guard<T>(message: Uint8Array, read: (r: ByteReader) => T): T {
  if (!(message instanceof Uint8Array) || message.length === 0) throw fail();
  let value: T;
  const r = new ByteReader(message);
  try {
    value = read(r);
  } catch (error) {
    if (error instanceof CompanionError) throw error;
    throw fail();
  }
  if (r.remaining !== 0) throw fail();
  return value;
}

export function decodeWearerRequest(message: Uint8Array): WearerRequest {
  return guard<WearerRequest>(message, (r) => {
    const type = r.readUint8();
    switch (type) {
      case TYPE.enrollPin:
      case TYPE.verifyPin: {
        const pin = new TextDecoder().decode(r.readBytes(r.readUint8()));
        if (!PIN_PATTERN.test(pin)) throw fail();
        return type === TYPE.enrollPin ? { kind: 'enroll-pin', pin } : { kind: 'verify-pin', pin };
      }
      case TYPE.attest: {
        const nonce = r.readBytes(r.readUint8());
        const contextLength = r.readUint16();
        if (contextLength > 1024) throw fail();
        return {
          kind: 'attest',
          nonce: new Uint8Array(nonce),
          context: new Uint8Array(r.readBytes(contextLength)),
        };
      }
      case TYPE.apdu: {
        const n = r.readUint32();
        if (n > APDU_BYTES_MAX) throw fail();
        return { kind: 'apdu', command: new Uint8Array(r.readBytes(n)) };
      }
      case TYPE.command: {
        const command = DEVICE_COMMANDS[r.readUint8()];
        if (command === undefined) throw fail();
        const n = r.readUint8();
        if (n > TOKEN_REFERENCE_MAX) throw fail();
        const tokenReference = new TextDecoder('utf-8', { fatal: true }).decode(r.readBytes(n));
        return { kind: 'command', command, tokenReference };
      }
      default:
        throw fail();
    }
  });
}

export function encodeWearerResponse(response: WearerResponse): Uint8Array {
  switch (response.kind) {
    case 'pin':
      if (!Number.isInteger(response.triesLeft) || response.triesLeft < 0 || response.triesLeft > 255)
        throw fail();
      return Uint8Array.of(TYPE.pin, PIN_STATUSES.indexOf(response.status), response.triesLeft);
    case 'attestation': {
      if (
        response.chain.length < 1 ||
        response.chain.length > CERTS_MAX ||
        response.signature.length > 255 ||
        response.context.length > 1024
      )
        throw fail();
      const parts: Uint8Array[] = [Uint8Array.of(TYPE.attestation, response.chain.length)];
      for (const der of response.chain) {
        if (der.length < 1 || der.length > CERT_BYTES_MAX) throw fail();
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
      if (response.response.length > APDU_BYTES_MAX) throw fail();
      return concat(Uint8Array.of(TYPE.apduResponse), u32(response.response.length), response.response);
    case 'done':
      return Uint8Array.of(TYPE.done);
    case 'error':
      if (!Number.isInteger(response.code) || response.code < 0 || response.code > 255) throw fail();
      return Uint8Array.of(TYPE.error, response.code);
  }
}

export function decodeWearerResponse(message: Uint8Array): WearerResponse {
  return guard<WearerResponse>(message, (r) => {
    const type = r.readUint8();
    switch (type) {
      case TYPE.pin: {
        const status = PIN_STATUSES[r.readUint8()];
        if (status === undefined) throw fail();
        return { kind: 'pin', status, triesLeft: r.readUint8() };
      }
      case TYPE.attestation: {
        const count = r.readUint8();
        if (count < 1 || count > CERTS_MAX) throw fail();
        const chain: Uint8Array[] = [];
        for (let i = 0; i < count; i++) {
          const n = r.readUint16();
          if (n < 1 || n > CERT_BYTES_MAX) throw fail();
          chain.push(new Uint8Array(r.readBytes(n)));
        }
        const signature = new Uint8Array(r.readBytes(r.readUint8()));
        const contextLength = r.readUint16();
        if (contextLength > 1024) throw fail();
        return { kind: 'attestation', chain, signature, context: new Uint8Array(r.readBytes(contextLength)) };
      }
      case TYPE.apduResponse: {
        const n = r.readUint32();
        if (n > APDU_BYTES_MAX) throw fail();
        return { kind: 'apdu', response: new Uint8Array(r.readBytes(n)) };
      }
      case TYPE.done:
        return { kind: 'done' };
      case TYPE.error:
        return { kind: 'error', code: r.readUint8() };
      default:
        throw fail();
    }
  });
}
