import { toHex } from '@amulet/bytes';
import { describePosition, TlvError } from './tlv-error.ts';

/** EMV tags are at most 3 bytes in practice; we allow 4 and refuse longer ones. */
export const MAX_TAG_BYTES = 4;

/** ISO/IEC 8825-1 8.1.2.2: b6 of the first tag byte set means a constructed object. */
export function isConstructedTagByte(first: number): boolean {
  return (first & 0x20) !== 0;
}

/** True when the (hex) tag names a constructed data object. */
export function isConstructedTag(tag: string): boolean {
  return isConstructedTagByte(Number.parseInt(tag.slice(0, 2), 16));
}

/**
 * Reads one tag field (EMV Book 3 Annex B1, ISO/IEC 8825-1 8.1.2): when b5-b1 of the first
 * byte are all 1, more bytes follow, each with b8 = 1 except the last. The tag must end before
 * `end`. Errors point at the tag's first byte and name the bytes read so far.
 */
export function readTag(
  bytes: Uint8Array,
  offset: number,
  end: number,
  parentPath: readonly string[],
): { readonly tag: string; readonly next: number } {
  if (offset >= end) {
    throw new TlvError('ERR_TLV_TRUNCATED', `TLV tag ${describePosition(offset, parentPath)} is missing`, {
      offset,
      path: parentPath,
    });
  }
  const first = bytes[offset]!;
  if (first === 0x00) {
    // ISO/IEC 7816-4 5.2: '00' is not a valid first tag byte (it is padding).
    throw new TlvError('ERR_TLV_TAG', `TLV tag ${describePosition(offset, parentPath)} starts with 00`, {
      offset,
      path: parentPath,
    });
  }
  let next = offset + 1;
  if ((first & 0x1f) === 0x1f) {
    for (;;) {
      if (next >= end) {
        const path = [...parentPath, toHex(bytes.subarray(offset, next))];
        throw new TlvError('ERR_TLV_TRUNCATED', `TLV tag ${describePosition(offset, path)} is truncated`, {
          offset,
          path,
        });
      }
      const byte = bytes[next++]!;
      if (next - offset > MAX_TAG_BYTES) {
        const path = [...parentPath, toHex(bytes.subarray(offset, next))];
        throw new TlvError(
          'ERR_TLV_TAG',
          `TLV tag ${describePosition(offset, path)} is longer than ${MAX_TAG_BYTES} bytes`,
          { offset, path },
        );
      }
      if ((byte & 0x80) === 0) break;
    }
  }
  return { tag: toHex(bytes.subarray(offset, next)), next };
}

/**
 * Checks a tag given as hex text and returns its bytes: 1 to 4 bytes, well-formed by the same
 * rules `readTag` applies. Used by the encoder and the DOL encoder.
 */
export function tagBytes(tag: string, path: readonly string[] = []): Uint8Array {
  const where = path.length === 0 ? '' : ` in ${path.join(' > ')}`;
  if (typeof tag !== 'string' || !/^(?:[0-9A-Fa-f]{2}){1,4}$/.test(tag)) {
    throw new TlvError('ERR_TLV_TAG', `TLV tag${where} must be 1 to ${MAX_TAG_BYTES} bytes of hex`, { path });
  }
  const bytes = new Uint8Array(tag.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(tag.slice(2 * i, 2 * i + 2), 16);
  const more = (bytes[0]! & 0x1f) === 0x1f;
  let wellFormed = bytes[0] !== 0x00 && (more ? bytes.length > 1 : bytes.length === 1);
  for (let i = 1; i < bytes.length && wellFormed; i++) {
    const last = i === bytes.length - 1;
    wellFormed = ((bytes[i]! & 0x80) === 0) === last;
  }
  if (!wellFormed) {
    throw new TlvError('ERR_TLV_TAG', `TLV tag ${tag.toUpperCase()}${where} is not a well-formed BER tag`, {
      path,
    });
  }
  return bytes;
}
