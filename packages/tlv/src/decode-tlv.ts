import { readLength } from './length.ts';
import { isConstructedTagByte, readTag } from './tag.ts';
import { describePosition, TlvError } from './tlv-error.ts';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_LENGTH, type TlvDecodeOptions, type TlvNode } from './tlv-node.ts';

interface Limits {
  readonly maxDepth: number;
  readonly maxLength: number;
  readonly padding: boolean;
  readonly opaque: ReadonlySet<string>;
}

/**
 * Decodes BER-TLV data objects (EMV Book 3 Annex B) into a tree, strictly: see `readTag` and
 * `readLength` for the tag and length rules. A constructed object's value must itself be a
 * whole number of data objects; the first problem found stops decoding with a `TlvError` that
 * carries its byte offset and tag path. Values are copies, not views of `bytes`.
 */
export function decodeTlv(bytes: Uint8Array, options: TlvDecodeOptions = {}): TlvNode[] {
  if (!(bytes instanceof Uint8Array)) throw new TlvError('ERR_TLV_INPUT', 'TLV input must be a Uint8Array');
  const limits: Limits = {
    maxDepth: checkedLimit('maxDepth', options.maxDepth ?? DEFAULT_MAX_DEPTH, 1),
    maxLength: checkedLimit('maxLength', options.maxLength ?? DEFAULT_MAX_LENGTH, 0),
    padding: options.allowTrailingPadding ?? true,
    opaque: new Set((options.opaqueTags ?? []).map((tag) => tag.toUpperCase())),
  };
  return decodeObjects(bytes, 0, bytes.length, [], 1, limits);
}

function checkedLimit(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new TlvError('ERR_TLV_INPUT', `TLV option ${name} must be an integer of at least ${min}`);
  }
  return value;
}

/** Decodes the objects in bytes[start, end), which sit at nesting level `depth`. */
function decodeObjects(
  bytes: Uint8Array,
  start: number,
  end: number,
  parentPath: readonly string[],
  depth: number,
  limits: Limits,
): TlvNode[] {
  const nodes: TlvNode[] = [];
  let offset = start;
  while (offset < end) {
    if (limits.padding) {
      // EMV Book 3 Annex B1: '00' bytes may appear before, between or after data objects.
      if (bytes[offset] === 0x00) {
        offset++;
        continue;
      }
      // ISO/IEC 7816-4 5.2: 'FF' padding, accepted only as a run reaching the end.
      if (bytes[offset] === 0xff && onlyFfUntil(bytes, offset, end)) break;
    }
    const { tag, next: lengthOffset } = readTag(bytes, offset, end, parentPath);
    let length: number;
    let valueOffset: number;
    const shortLength = lengthOffset < end ? bytes[lengthOffset]! : 0x80;
    if (shortLength < 0x80 && shortLength <= limits.maxLength && shortLength <= end - lengthOffset - 1) {
      // The common case (short form, fits): no path array is built unless something fails.
      length = shortLength;
      valueOffset = lengthOffset + 1;
    } else {
      ({ length, next: valueOffset } = readLength(
        bytes,
        lengthOffset,
        end,
        [...parentPath, tag],
        limits.maxLength,
      ));
    }
    if (length > end - valueOffset) {
      const path = [...parentPath, tag];
      throw new TlvError(
        'ERR_TLV_TRUNCATED',
        `TLV value ${describePosition(valueOffset, path)} needs ${length} bytes, ${end - valueOffset} remain`,
        { offset: valueOffset, path },
      );
    }
    const valueEnd = valueOffset + length;
    if (isConstructedTagByte(bytes[offset]!) && !limits.opaque.has(tag)) {
      const path = [...parentPath, tag];
      // ISO/IEC 8825-1 8.1.2.5: b6 = 1, the value is a sequence of data objects.
      if (length > 0 && depth >= limits.maxDepth) {
        throw new TlvError(
          'ERR_TLV_DEPTH',
          `TLV template ${describePosition(offset, path)} nests deeper than ${limits.maxDepth} levels`,
          { offset, path },
        );
      }
      nodes.push({ tag, children: decodeObjects(bytes, valueOffset, valueEnd, path, depth + 1, limits) });
    } else {
      nodes.push({ tag, value: bytes.slice(valueOffset, valueEnd) });
    }
    offset = valueEnd;
  }
  return nodes;
}

function onlyFfUntil(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0xff) return false;
  return true;
}
