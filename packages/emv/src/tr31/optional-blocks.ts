import { KeyBlockError } from './key-block-error.ts';
import type { KeyBlockOptionalBlock } from './key-block-header.ts';

// ANSI X9.143 optional blocks: ID (2 characters) | length (2 hex digits, the whole block in
// characters) | data (printable ASCII). A length of 00 announces the extended form: 2 hex
// digits giving the length of the length in bytes, then the length itself.
const ID_PATTERN = /^[0-9A-Z]{2}$/;
const DATA_PATTERN = /^[\x20-\x7E]*$/;
const HEX_PATTERN = /^[0-9A-F]+$/;
const SHORT_HEADER = 4;
/** Extended form with a 2-byte length: ID, 00, 02, four hex digits. */
const EXTENDED_HEADER = 10;
const SHORT_MAX = 0xff;
/** The padding block, which brings the header to a multiple of the cipher block size. */
export const PADDING_BLOCK_ID = 'PB';

function blockError(message: string, index: number, offset?: number): KeyBlockError {
  return new KeyBlockError('ERR_TR31_OPTIONAL_BLOCK', message, {
    path: ['header', 'optionalBlocks', String(index)],
    ...(offset === undefined ? {} : { offset }),
  });
}

function hexValue(text: string, index: number, offset: number, what: string): number {
  if (!HEX_PATTERN.test(text))
    throw blockError(`optional block ${index} ${what} must be hexadecimal`, index, offset);
  return Number.parseInt(text, 16);
}

/** Checks an optional block to write: its ID, its data, and PB only in last place. */
export function checkOptionalBlock(block: unknown, index: number, last: boolean): KeyBlockOptionalBlock {
  const { id, data } = (block ?? {}) as { id?: unknown; data?: unknown };
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw blockError(`optional block ${index} ID must be two upper-case letters or digits`, index);
  }
  if (typeof data !== 'string' || !DATA_PATTERN.test(data)) {
    throw blockError(`optional block ${index} data must be printable ASCII`, index);
  }
  if (id === PADDING_BLOCK_ID && !last) throw blockError('the PB optional block must be the last one', index);
  return { id, data };
}

/** Reads `count` optional blocks from `start`; returns them and where the header ends. */
export function readOptionalBlocks(
  text: string,
  start: number,
  count: number,
): { blocks: KeyBlockOptionalBlock[]; end: number } {
  const blocks: KeyBlockOptionalBlock[] = [];
  let position = start;
  for (let index = 0; index < count; index++) {
    if (text.length - position < SHORT_HEADER) {
      throw blockError(`optional block ${index} runs past the end of the key block`, index, position);
    }
    let length = hexValue(text.slice(position + 2, position + 4), index, position + 2, 'length');
    let dataStart = position + SHORT_HEADER;
    if (length === 0) {
      const lengthOfLength = hexValue(text.slice(position + 4, position + 6), index, position + 4, 'length');
      if (lengthOfLength !== 2) {
        throw blockError(`optional block ${index} extended length must be 2 bytes`, index, position + 4);
      }
      length = hexValue(text.slice(position + 6, position + 10), index, position + 6, 'length');
      if (length <= SHORT_MAX) {
        throw blockError(
          `optional block ${index} uses the extended length for a short block`,
          index,
          position,
        );
      }
      dataStart = position + EXTENDED_HEADER;
    } else if (length < SHORT_HEADER) {
      throw blockError(`optional block ${index} length is shorter than its own header`, index, position + 2);
    }
    const end = position + length;
    if (end > text.length) {
      throw blockError(`optional block ${index} runs past the end of the key block`, index, position);
    }
    blocks.push(
      checkOptionalBlock(
        { id: text.slice(position, position + 2), data: text.slice(dataStart, end) },
        index,
        index === count - 1,
      ),
    );
    position = end;
  }
  return { blocks, end: position };
}

/** Writes one optional block, in the short form when it fits. */
export function formatOptionalBlock(block: KeyBlockOptionalBlock): string {
  const short = SHORT_HEADER + block.data.length;
  if (short <= SHORT_MAX) return `${block.id}${hex(short, 2)}${block.data}`;
  return `${block.id}0002${hex(EXTENDED_HEADER + block.data.length, 4)}${block.data}`;
}

function hex(value: number, digits: number): string {
  return value.toString(16).toUpperCase().padStart(digits, '0');
}

/**
 * The blocks with any padding block replaced by one that brings the header (16 characters plus
 * the blocks) to a multiple of `blockSize`, or with none when no padding is needed.
 */
export function withPaddingBlock(
  blocks: readonly KeyBlockOptionalBlock[],
  blockSize: number,
): KeyBlockOptionalBlock[] {
  const kept = blocks.filter((block) => block.id !== PADDING_BLOCK_ID);
  const length = 16 + kept.reduce((sum, block) => sum + formatOptionalBlock(block).length, 0);
  const remainder = length % blockSize;
  if (remainder === 0) return kept;
  let padding = blockSize - remainder;
  if (padding < SHORT_HEADER) padding += blockSize;
  return [...kept, { id: PADDING_BLOCK_ID, data: '0'.repeat(padding - SHORT_HEADER) }];
}
