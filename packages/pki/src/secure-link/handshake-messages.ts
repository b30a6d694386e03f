import { ByteReader, concat } from '@amulet/bytes';
import { LinkError } from './link-error.ts';

/** Wire constants of docs/protocols/secure-link.md, "Handshake messages". */
export const LINK_VERSION = 0x01;
export const MESSAGE_TYPE = { phoneHello: 0x01, wearableHello: 0x02, phoneFinished: 0x03 } as const;
export const POINT_BYTES = 65;
export const RANDOM_BYTES = 32;
export const FINISHED_BYTES = 32;
export const CHAIN_CERTIFICATES_MAX = 3;
export const CERTIFICATE_BYTES_MAX = 2048;
export const SIGNATURE_BYTES_MAX = 104;

export interface PhoneHello {
  readonly ephemeralPublicKey: Uint8Array;
  readonly random: Uint8Array;
}

export interface WearableHello {
  readonly ephemeralPublicKey: Uint8Array;
  readonly random: Uint8Array;
  readonly chain: readonly Uint8Array[];
  readonly signature: Uint8Array;
  readonly finished: Uint8Array;
  /** Bytes the wearable's signature covers the hash of (after the phone hello). */
  readonly signedPart: Uint8Array;
  /** Everything but `finished`. */
  readonly body: Uint8Array;
}

function malformed(what: string): LinkError {
  return new LinkError('ERR_LINK_MESSAGE', `${what} is malformed`);
}

function header(type: number): Uint8Array {
  return Uint8Array.of(type, LINK_VERSION);
}

function readHeader(reader: ByteReader, type: number, what: string): void {
  if (reader.readUint8() !== type || reader.readUint8() !== LINK_VERSION) throw malformed(what);
}

function readPoint(reader: ByteReader, what: string): Uint8Array {
  const point = reader.readBytes(POINT_BYTES);
  if (point[0] !== 0x04) throw malformed(what); // SEC 1 section 2.3.3, uncompressed
  return point;
}

export function encodePhoneHello(hello: PhoneHello): Uint8Array {
  return concat(header(MESSAGE_TYPE.phoneHello), hello.ephemeralPublicKey, hello.random);
}

export function decodePhoneHello(bytes: Uint8Array): PhoneHello {
  return guarded('phone hello', () => {
    const reader = new ByteReader(bytes);
    readHeader(reader, MESSAGE_TYPE.phoneHello, 'phone hello');
    const ephemeralPublicKey = readPoint(reader, 'phone hello');
    const random = reader.readBytes(RANDOM_BYTES);
    if (!reader.done) throw malformed('phone hello');
    return { ephemeralPublicKey, random };
  });
}

/** The part of the wearable hello its signature covers: header, key, random, chain. */
export function encodeWearableSignedPart(
  ephemeralPublicKey: Uint8Array,
  random: Uint8Array,
  chain: readonly Uint8Array[],
): Uint8Array {
  if (chain.length < 1 || chain.length > CHAIN_CERTIFICATES_MAX) throw malformed('certificate chain');
  const parts: Uint8Array[] = [
    header(MESSAGE_TYPE.wearableHello),
    ephemeralPublicKey,
    random,
    Uint8Array.of(chain.length),
  ];
  for (const der of chain) {
    if (der.length < 1 || der.length > CERTIFICATE_BYTES_MAX) throw malformed('certificate chain');
    parts.push(Uint8Array.of(der.length >> 8, der.length & 0xff), der);
  }
  return concat(...parts);
}

export function encodeWearableBody(signedPart: Uint8Array, signature: Uint8Array): Uint8Array {
  if (signature.length < 8 || signature.length > SIGNATURE_BYTES_MAX) throw malformed('signature');
  return concat(signedPart, Uint8Array.of(signature.length), signature);
}

export function decodeWearableHello(bytes: Uint8Array): WearableHello {
  return guarded('wearable hello', () => {
    const reader = new ByteReader(bytes);
    readHeader(reader, MESSAGE_TYPE.wearableHello, 'wearable hello');
    const ephemeralPublicKey = readPoint(reader, 'wearable hello');
    const random = reader.readBytes(RANDOM_BYTES);
    const count = reader.readUint8();
    if (count < 1 || count > CHAIN_CERTIFICATES_MAX) throw malformed('wearable hello');
    const chain: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const length = reader.readUint16();
      if (length < 1 || length > CERTIFICATE_BYTES_MAX) throw malformed('wearable hello');
      chain.push(reader.readBytes(length));
    }
    const signedEnd = reader.offset;
    const signatureLength = reader.readUint8();
    if (signatureLength < 8 || signatureLength > SIGNATURE_BYTES_MAX) throw malformed('wearable hello');
    const signature = reader.readBytes(signatureLength);
    const bodyEnd = reader.offset;
    const finished = reader.readBytes(FINISHED_BYTES);
    if (!reader.done) throw malformed('wearable hello');
    return {
      ephemeralPublicKey,
      random,
      chain,
      signature,
      finished,
      signedPart: bytes.subarray(0, signedEnd),
      body: bytes.subarray(0, bodyEnd),
    };
  });
}

export function encodePhoneFinished(mac: Uint8Array): Uint8Array {
  return concat(header(MESSAGE_TYPE.phoneFinished), mac);
}

export function decodePhoneFinished(bytes: Uint8Array): Uint8Array {
  return guarded('phone finished', () => {
    const reader = new ByteReader(bytes);
    readHeader(reader, MESSAGE_TYPE.phoneFinished, 'phone finished');
    const mac = reader.readBytes(FINISHED_BYTES);
    if (!reader.done) throw malformed('phone finished');
    return mac;
  });
}

/** Turns a read past the end into our message error. */
function guarded<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof LinkError) throw error;
    throw malformed(what);
  }
}
