import { encodeTlvLength } from './length.ts';
import { isConstructedTagByte, tagBytes } from './tag.ts';
import { TlvError } from './tlv-error.ts';
import type { TlvNode } from './tlv-node.ts';

/** Checked tag bytes by tag text; bounded, since a hostile caller could send endless distinct tags. */
const tagCache = new Map<string, Uint8Array>();
const TAG_CACHE_MAX = 1024;

function checkedTag(tag: string, parentPath: readonly string[]): Uint8Array {
  let bytes = tagCache.get(tag);
  if (bytes === undefined) {
    bytes = tagBytes(tag, parentPath);
    if (tagCache.size < TAG_CACHE_MAX) tagCache.set(tag, bytes);
  }
  return bytes;
}

/** Bytes a length field takes in its shortest form (EMV Book 3 Annex B2). */
function lengthSize(length: number): number {
  if (length < 0x80) return 1;
  if (length <= 0xff) return 2;
  if (length <= 0xffff) return 3;
  if (length <= 0xffffff) return 4;
  return 5;
}

/**
 * Encodes data objects as BER-TLV (EMV Book 3 Annex B), every length in its shortest form, so
 * `decodeTlv(encodeTlv(nodes))` gives the nodes back. A primitive tag takes `value` (missing
 * means empty); a constructed tag takes `children`. The size is measured first and the objects
 * are written into one buffer; the tag path is built only for an error.
 */
export function encodeTlv(nodes: readonly TlvNode[]): Uint8Array {
  const out = new Uint8Array(measure(nodes, []));
  write(nodes, out, 0);
  return out;
}

function pathOf(parentPath: readonly string[], node: TlvNode): string[] {
  return [...parentPath, String(node.tag).toUpperCase()];
}

/** The encoded size of `nodes`, checking every node on the way. */
function measure(nodes: readonly TlvNode[], parentPath: readonly string[]): number {
  if (!Array.isArray(nodes)) {
    throw new TlvError('ERR_TLV_NODE', 'TLV nodes to encode must be an array', { path: parentPath });
  }
  let size = 0;
  for (const node of nodes) {
    const tag = checkedTag(node?.tag, parentPath);
    const content = contentSize(node, tag, parentPath);
    size += tag.length + lengthSize(content) + content;
  }
  return size;
}

function contentSize(node: TlvNode, tag: Uint8Array, parentPath: readonly string[]): number {
  if (node.children !== undefined) {
    if (node.value !== undefined) {
      const path = pathOf(parentPath, node);
      throw new TlvError('ERR_TLV_NODE', `TLV node ${path.join(' > ')} has both a value and children`, {
        path,
      });
    }
    if (!isConstructedTagByte(tag[0]!)) {
      const path = pathOf(parentPath, node);
      throw new TlvError('ERR_TLV_NODE', `TLV tag ${path.join(' > ')} is primitive but has children`, {
        path,
      });
    }
    return measure(node.children, pathOf(parentPath, node));
  }
  if (node.value === undefined) return 0;
  if (!(node.value instanceof Uint8Array)) {
    const path = pathOf(parentPath, node);
    throw new TlvError('ERR_TLV_NODE', `TLV value of ${path.join(' > ')} must be a Uint8Array`, { path });
  }
  return node.value.length;
}

/** Writes already-checked nodes at `offset`; returns the offset after them. */
function write(nodes: readonly TlvNode[], out: Uint8Array, offset: number): number {
  let at = offset;
  for (const node of nodes) {
    const tag = tagCache.get(node.tag) ?? tagBytes(node.tag);
    out.set(tag, at);
    at += tag.length;
    if (node.children !== undefined) {
      const content = measure(node.children, []);
      out.set(encodeTlvLength(content), at);
      at = write(node.children, out, at + lengthSize(content));
    } else {
      const value = node.value;
      const length = value === undefined ? 0 : value.length;
      if (length < 0x80) out[at++] = length;
      else {
        const field = encodeTlvLength(length);
        out.set(field, at);
        at += field.length;
      }
      if (value !== undefined) {
        out.set(value, at);
        at += length;
      }
    }
  }
  return at;
}
