import { decodeTlv, encodeTlv, type TlvNode } from '@amulet/tlv';
import type { ByteWriter } from './byte-writer.ts';

/**
 * BER-TLV content of a composite field (field 55), on the hot path. The common case, primitive
 * data objects with tags of 1 to 4 bytes and lengths of at most 127 bytes, is read and written
 * here directly; anything else (templates, long-form lengths, malformed data, bad nodes) goes to
 * `decodeTlv` / `encodeTlv` of `@amulet/tlv`, so results and errors are exactly theirs.
 */

const HEX_DIGITS = '0123456789ABCDEF';
/** Upper-case hex of each byte (EMV tags are written so, as `decodeTlv` gives them). */
const HEX_PAIRS: readonly string[] = Array.from(
  { length: 256 },
  (_, byte) => HEX_DIGITS[byte >> 4]! + HEX_DIGITS[byte & 15]!,
);

/**
 * The text of every primitive two-byte tag, by `(first >> 6) << 7 | second`: a first byte that
 * announces more tag bytes has b5-b1 set and b6 clear (primitive) here, so its b8-b7 tell the
 * four possible first bytes apart, and the last tag byte has b8 clear (EMV Book 3 Annex B1).
 * 512 strings made once; a lookup here is a fraction of a `Map` lookup, and most EMV tags in
 * field 55 (9F26, 9F36, 5F2A...) have two bytes.
 */
const TWO_BYTE_TAGS: readonly string[] = Array.from(
  { length: 512 },
  (_, index) => HEX_PAIRS[((index >> 7) << 6) | 0x1f]! + HEX_PAIRS[index & 0x7f]!,
);
/** Tag text of longer tags by tag bytes read as a big-endian number; bounded against endless distinct tags. */
const tagNames = new Map<number, string>();
/** Checked tag bytes by tag text, as the caller wrote it; bounded the same way. */
const tagFields = new Map<string, Uint8Array>();
/**
 * The tags of the last field encoded, by position: successive messages from a terminal carry
 * their data objects in the same order, and comparing a tag with the one at the same position
 * last time (the same string, most often) is cheaper than a lookup in `tagFields`.
 */
const RECENT_MAX = 32;
/** Equal to no tag a caller can pass, so an empty position never matches. */
const NO_TAG = Symbol('no tag');
const recentTags: unknown[] = new Array<unknown>(RECENT_MAX).fill(NO_TAG);
const recentTagBytes: Uint8Array[] = new Array<Uint8Array>(RECENT_MAX).fill(new Uint8Array(0));
const TAG_CACHE_MAX = 1024;
const EMPTY = new Uint8Array(0);

/**
 * Decodes `bytes[start, end)` as `decodeTlv(bytes.subarray(start, end), { allowTrailingPadding:
 * false })` does, values copied. Throws what `decodeTlv` throws, with offsets from `start`.
 */
export function decodeTlvField(bytes: Uint8Array, start: number, end: number): TlvNode[] {
  const nodes: TlvNode[] = [];
  let at = start;
  while (at < end) {
    const first = bytes[at]!;
    // Padding ('00'), a constructed tag (b6, ISO/IEC 8825-1 8.1.2.5): the full decoder decides.
    if (first === 0 || (first & 0x20) !== 0) return decodeTlv(bytes.subarray(start, end), STRICT);
    let key = first;
    let next = at + 1;
    if ((first & 0x1f) === 0x1f) {
      // EMV Book 3 Annex B1: subsequent tag bytes have b8 = 1 except the last; at most 4 bytes.
      for (;;) {
        if (next >= end || next - at >= 4) return decodeTlv(bytes.subarray(start, end), STRICT);
        const byte = bytes[next++]!;
        key = key * 256 + byte;
        if ((byte & 0x80) === 0) break;
      }
    }
    if (next >= end) return decodeTlv(bytes.subarray(start, end), STRICT);
    const length = bytes[next]!;
    const valueAt = next + 1;
    // Long-form lengths (b8 = 1) and values running past the end: the full decoder.
    if (length >= 0x80 || length > end - valueAt) return decodeTlv(bytes.subarray(start, end), STRICT);
    // A tag's text is made once: one-byte and two-byte tags from tables, longer ones cached.
    let tag =
      next === at + 1
        ? HEX_PAIRS[first]
        : next === at + 2
          ? TWO_BYTE_TAGS[((first >> 6) << 7) | bytes[at + 1]!]
          : tagNames.get(key);
    if (tag === undefined) {
      tag = HEX_PAIRS[first]!;
      for (let i = at + 1; i < next; i++) tag += HEX_PAIRS[bytes[i]!]!;
      if (tagNames.size < TAG_CACHE_MAX) tagNames.set(key, tag);
    }
    nodes.push({ tag, value: copyOf(bytes, valueAt, length) });
    at = valueAt + length;
  }
  return nodes;
}

const STRICT = { allowTrailingPadding: false } as const;

/**
 * Decoded values are copies, as `decodeTlv` makes them, but carved out of a shared block rather
 * than allocated one by one: a typed array per value costs more than decoding the whole field.
 * A copy's bytes are never written again; like a `Buffer` from Node's pool, it may have a
 * non-zero `byteOffset` and keeps its block (32 KiB) alive.
 */
const VALUE_BLOCK_SIZE = 32768;
let valueBlock = new ArrayBuffer(VALUE_BLOCK_SIZE);
let valueBlockUsed = 0;

function copyOf(bytes: Uint8Array, start: number, length: number): Uint8Array {
  if (valueBlockUsed + length > VALUE_BLOCK_SIZE) {
    valueBlock = new ArrayBuffer(VALUE_BLOCK_SIZE);
    valueBlockUsed = 0;
  }
  const copy = new Uint8Array(valueBlock, valueBlockUsed, length);
  valueBlockUsed += length;
  for (let i = 0; i < length; i++) copy[i] = bytes[start + i]!;
  return copy;
}

/**
 * Writes `nodes` as `encodeTlv(nodes)` would and returns the byte count. Throws what
 * `encodeTlv` throws for nodes it refuses.
 */
export function encodeTlvField(nodes: readonly TlvNode[], writer: ByteWriter): number {
  const start = writer.offset;
  // The writer's position is kept in locals and given back at the end; room is asked for only
  // when a data object might not fit (a tag of at most 4 bytes, a length of at most 5).
  let out = writer.bytes;
  let room = out.length;
  let at = start;
  for (let n = 0; n < nodes.length; n++) {
    const node = nodes[n];
    if (typeof node !== 'object' || node === null || node.children !== undefined) {
      return encodeSlowly(nodes, writer, start);
    }
    let tag: Uint8Array | undefined;
    if (n < RECENT_MAX && recentTags[n] === node.tag) tag = recentTagBytes[n]!;
    else {
      tag = tagField(node.tag);
      if (tag !== undefined && n < RECENT_MAX) {
        recentTags[n] = node.tag;
        recentTagBytes[n] = tag;
      }
    }
    const value = node.value;
    if (tag === undefined || !(value === undefined || value instanceof Uint8Array)) {
      return encodeSlowly(nodes, writer, start);
    }
    const length = value === undefined ? 0 : value.length;
    if (at + 9 + length > room) {
      writer.offset = at;
      writer.reserve(9 + length);
      out = writer.bytes;
      room = out.length;
      at = writer.offset;
    }
    // Most EMV tags have one or two bytes (EMV Book 3 Annex B1).
    const tagSize = tag.length;
    out[at] = tag[0]!;
    if (tagSize === 2) out[at + 1] = tag[1]!;
    else for (let i = 1; i < tagSize; i++) out[at + i] = tag[i]!;
    at += tagSize;
    // EMV Book 3 Annex B2: the shortest length form, 1 byte below 128, else 81 / 82 / 83 / 84.
    if (length < 0x80) out[at++] = length;
    else {
      const size = length <= 0xff ? 1 : length <= 0xffff ? 2 : length <= 0xffffff ? 3 : 4;
      out[at++] = 0x80 | size;
      for (let i = size - 1; i >= 0; i--) out[at++] = Math.floor(length / 2 ** (8 * i)) & 0xff;
    }
    if (value !== undefined) {
      if (length <= 16) for (let i = 0; i < length; i++) out[at + i] = value[i]!;
      else out.set(value, at);
      at += length;
    }
  }
  writer.offset = at;
  return at - start;
}

/** The bytes of a well-formed tag, checked once by `encodeTlv` itself; undefined if it refuses. */
function tagField(tag: unknown): Uint8Array | undefined {
  if (typeof tag !== 'string') return undefined;
  let bytes = tagFields.get(tag);
  if (bytes === undefined) {
    try {
      const encoded = encodeTlv([{ tag, value: EMPTY }]);
      // Only primitive tags take a value; the fast path leaves constructed ones to encodeTlv.
      if ((encoded[0]! & 0x20) !== 0) return undefined;
      bytes = encoded.slice(0, encoded.length - 1);
    } catch {
      return undefined;
    }
    if (tagFields.size < TAG_CACHE_MAX) tagFields.set(tag, bytes);
  }
  return bytes;
}

function encodeSlowly(nodes: readonly TlvNode[], writer: ByteWriter, start: number): number {
  writer.offset = start;
  const bytes = encodeTlv(nodes);
  writer.write(bytes);
  return bytes.length;
}
