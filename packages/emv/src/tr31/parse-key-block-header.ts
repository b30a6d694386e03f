import { KeyBlockError } from './key-block-error.ts';
import {
  checkHeaderField,
  FIXED_HEADER_LENGTH,
  HEADER_FIELDS,
  type KeyBlockHeader,
  type KeyBlockVersion,
  RESERVED_OFFSET,
  RESERVED_VALUE,
  versionParameters,
} from './key-block-header.ts';
import { readOptionalBlocks } from './optional-blocks.ts';

const PRINTABLE = /^[\x20-\x7E]*$/;

export interface ReadHeader {
  readonly header: KeyBlockHeader;
  /** The key block length that the header declares (bytes 1-4). */
  readonly declaredLength: number;
  /** Characters of header, optional blocks included. */
  readonly headerLength: number;
}

function digits(text: string, offset: number, length: number, name: string): number {
  const value = text.slice(offset, offset + length);
  if (!/^[0-9]+$/.test(value) || value.length !== length) {
    throw new KeyBlockError('ERR_TR31_HEADER', `key block header ${name} must be ${length} decimal digits`, {
      path: ['header', name],
      offset,
    });
  }
  return Number(value);
}

/**
 * Reads and checks the header at the start of `text` (a key block, or a header alone):
 * every fixed field, the optional blocks, and that the whole header is a multiple of the
 * version's cipher block size.
 */
export function readKeyBlockHeader(text: unknown, padded = true): ReadHeader {
  if (typeof text !== 'string') throw new KeyBlockError('ERR_TR31_INPUT', 'key block must be a string');
  if (!PRINTABLE.test(text)) {
    throw new KeyBlockError('ERR_TR31_ENCODING', 'key block must be printable ASCII');
  }
  const parameters = versionParameters(text[0]);
  if (text.length < FIXED_HEADER_LENGTH) {
    throw new KeyBlockError(
      'ERR_TR31_LENGTH',
      `key block header must be at least ${FIXED_HEADER_LENGTH} characters`,
    );
  }
  const declaredLength = digits(text, 1, 4, 'keyBlockLength');
  const fields = Object.fromEntries(
    HEADER_FIELDS.map((field) => [
      field.name,
      checkHeaderField(field, text.slice(field.offset, field.offset + field.length)),
    ]),
  ) as Record<(typeof HEADER_FIELDS)[number]['name'], string>;
  const count = digits(text, 12, 2, 'optionalBlockCount');
  if (text[RESERVED_OFFSET] !== RESERVED_VALUE) {
    throw new KeyBlockError(
      'ERR_TR31_HEADER',
      `key block header byte ${RESERVED_OFFSET} is reserved and must be 0`,
      {
        path: ['header', 'reserved'],
        offset: RESERVED_OFFSET,
      },
    );
  }
  const { blocks, end } = readOptionalBlocks(text, FIXED_HEADER_LENGTH, count);
  if (padded && end % parameters.blockSize !== 0) {
    throw new KeyBlockError(
      'ERR_TR31_HEADER',
      `key block header with its optional blocks must be a multiple of ${parameters.blockSize} characters`,
      { path: ['header', 'optionalBlocks'], offset: end },
    );
  }
  const header: KeyBlockHeader = {
    version: text[0] as KeyBlockVersion,
    ...fields,
    optionalBlocks: blocks,
  };
  return { header, declaredLength, headerLength: end };
}

/**
 * Parses a header on its own (16 characters and its optional blocks, nothing after them). The
 * length digits (bytes 1-4) must be digits but are not otherwise checked: they describe the key
 * block that the header will head. With `padded: false` the header need not yet be a multiple of
 * the cipher block size (`wrapKeyBlock` adds the PB block that makes it one).
 */
export function parseKeyBlockHeader(
  text: string,
  options: { readonly padded?: boolean } = {},
): KeyBlockHeader {
  const read = readKeyBlockHeader(text, options.padded ?? true);
  if (read.headerLength !== text.length) {
    throw new KeyBlockError('ERR_TR31_HEADER', 'key block header has characters after its optional blocks', {
      offset: read.headerLength,
    });
  }
  return read.header;
}
