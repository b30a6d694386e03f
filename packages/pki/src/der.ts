import { concat } from '@amulet/bytes';
import { PkiError } from './pki-error.ts';

/** One DER element located inside a byte array (X.690 section 8.1: tag, length, contents). */
export interface DerElement {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  /** Offset of the first contents byte. */
  readonly contentStart: number;
  /** Offset just past the contents. */
  readonly end: number;
}

/**
 * Reads the element at `offset`, refusing indefinite, non-minimal or overlong lengths and
 * multi-byte tags (none of the structures Amulet reads uses them). X.690 sections 8.1.3, 10.1.
 */
export function readDerElement(bytes: Uint8Array, offset: number, limit = bytes.length): DerElement {
  if (offset + 2 > limit)
    throw new PkiError('ERR_PKI_DER', `DER element truncated at offset ${offset}`, { offset });
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f)
    throw new PkiError('ERR_PKI_DER', `multi-byte DER tag at offset ${offset}`, { offset });
  const first = bytes[offset + 1]!;
  let length = first;
  let contentStart = offset + 2;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 3) {
      throw new PkiError('ERR_PKI_DER', `unsupported DER length form at offset ${offset + 1}`, {
        offset: offset + 1,
      });
    }
    if (contentStart + count > limit) {
      throw new PkiError('ERR_PKI_DER', `DER length truncated at offset ${offset + 1}`, {
        offset: offset + 1,
      });
    }
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[contentStart + i]!;
    if (length < 0x80 || bytes[contentStart] === 0) {
      throw new PkiError('ERR_PKI_DER', `non-minimal DER length at offset ${offset + 1}`, {
        offset: offset + 1,
      });
    }
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > limit) throw new PkiError('ERR_PKI_DER', `DER contents overrun at offset ${offset}`, { offset });
  return { tag, start: offset, contentStart, end };
}

/** The elements directly inside a constructed element, in order. */
export function derChildren(bytes: Uint8Array, parent: DerElement): DerElement[] {
  const children: DerElement[] = [];
  let offset = parent.contentStart;
  while (offset < parent.end) {
    const child = readDerElement(bytes, offset, parent.end);
    children.push(child);
    offset = child.end;
  }
  return children;
}

/** Reads a whole buffer as exactly one element with the expected tag. */
export function readDerTop(bytes: Uint8Array, tag: number, what: string): DerElement {
  const element = readDerElement(bytes, 0);
  if (element.tag !== tag || element.end !== bytes.length) {
    throw new PkiError('ERR_PKI_DER', `${what} is not one DER element with tag ${tag.toString(16)}`);
  }
  return element;
}

/** The whole element (tag, length and contents) as a view. */
export function derBytes(bytes: Uint8Array, element: DerElement): Uint8Array {
  return bytes.subarray(element.start, element.end);
}

/** The contents only, as a view. */
export function derContents(bytes: Uint8Array, element: DerElement): Uint8Array {
  return bytes.subarray(element.contentStart, element.end);
}

/** Encodes one element with a minimal definite length (X.690 section 10.1). */
export function encodeDer(tag: number, contents: Uint8Array): Uint8Array {
  const n = contents.length;
  let header: Uint8Array;
  if (n < 0x80) header = Uint8Array.of(tag, n);
  else if (n < 0x100) header = Uint8Array.of(tag, 0x81, n);
  else if (n < 0x10000) header = Uint8Array.of(tag, 0x82, n >> 8, n & 0xff);
  else header = Uint8Array.of(tag, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff);
  return concat(header, contents);
}

/** Universal tags (X.680 section 8.4), constructed where DER encodes them so. */
export const DER_TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;
