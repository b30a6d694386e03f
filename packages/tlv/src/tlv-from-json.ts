import { fromHex } from '@amulet/bytes';
import { TlvError } from './tlv-error.ts';
import { DEFAULT_MAX_DEPTH, type TlvNode } from './tlv-node.ts';

/**
 * Reads the JSON form of a tree back into nodes: what `describeTlv(nodes, { reveal: true })`
 * gives, either as an array or wrapped as `{ "tlv": [...] }`. Each object has `tag` (hex) and
 * either `value` (hex) or `children`; `name` is ignored. A masked value cannot be encoded and is
 * refused. Tags are checked later by `encodeTlv`.
 */
export function parseTlvJson(json: unknown, options: { maxDepth?: number } = {}): TlvNode[] {
  const root = isRecord(json) && 'tlv' in json ? json.tlv : json;
  return readNodes(root, [], 1, options.maxDepth ?? DEFAULT_MAX_DEPTH);
}

function readNodes(json: unknown, path: readonly string[], depth: number, maxDepth: number): TlvNode[] {
  if (!Array.isArray(json)) throw jsonError('must be an array of data objects', path);
  if (depth > maxDepth && json.length > 0) throw jsonError(`nests deeper than ${maxDepth} levels`, path);
  return json.map((item: unknown, index): TlvNode => {
    if (!isRecord(item) || typeof item.tag !== 'string') {
      throw jsonError(`item ${index} must be an object with a string tag`, path);
    }
    const tag = item.tag.toUpperCase();
    const here = [...path, tag];
    if (item.masked === true) throw jsonError('holds a masked value; decode with --reveal', here);
    if (item.children !== undefined) {
      if (item.value !== undefined) throw jsonError('has both a value and children', here);
      return { tag, children: readNodes(item.children, here, depth + 1, maxDepth) };
    }
    if (item.value === undefined) return { tag, value: new Uint8Array(0) };
    if (typeof item.value !== 'string' || !/^(?:[0-9A-Fa-f]{2})*$/.test(item.value)) {
      throw jsonError('value must be hex with an even number of digits', here);
    }
    return { tag, value: fromHex(item.value) };
  });
}

function jsonError(problem: string, path: readonly string[]): TlvError {
  const where = path.length === 0 ? 'the TLV JSON' : `TLV JSON object ${path.join(' > ')}`;
  return new TlvError('ERR_TLV_JSON', `${where} ${problem}`, { path });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
