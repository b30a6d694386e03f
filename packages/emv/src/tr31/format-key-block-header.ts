import { KeyBlockError } from './key-block-error.ts';
import {
  checkHeaderField,
  HEADER_FIELDS,
  type KeyBlockHeader,
  RESERVED_VALUE,
  versionParameters,
} from './key-block-header.ts';
import { checkOptionalBlock, formatOptionalBlock } from './optional-blocks.ts';

/** The longest key block the four-digit length field can state. */
export const KEY_BLOCK_LENGTH_MAX = 9999;

/** Checks every field of a header to write; returns it with its optional blocks checked. */
export function checkKeyBlockHeader(header: unknown): KeyBlockHeader {
  if (typeof header !== 'object' || header === null) {
    throw new KeyBlockError('ERR_TR31_INPUT', 'key block header must be an object');
  }
  const fields = header as Record<string, unknown>;
  versionParameters(fields.version);
  for (const field of HEADER_FIELDS) checkHeaderField(field, fields[field.name]);
  const blocks = fields.optionalBlocks ?? [];
  if (!Array.isArray(blocks) || blocks.length > 99) {
    throw new KeyBlockError('ERR_TR31_OPTIONAL_BLOCK', 'optional blocks must be a list of at most 99');
  }
  const checked = header as KeyBlockHeader;
  return {
    version: checked.version,
    keyUsage: checked.keyUsage,
    algorithm: checked.algorithm,
    modeOfUse: checked.modeOfUse,
    keyVersionNumber: checked.keyVersionNumber,
    exportability: checked.exportability,
    keyContext: checked.keyContext,
    optionalBlocks: blocks.map((block, index) =>
      checkOptionalBlock(block, index, index === blocks.length - 1),
    ),
  };
}

/** Writes a header for a key block of `keyBlockLength` characters (ANSI X9.143 header layout). */
export function formatKeyBlockHeader(header: KeyBlockHeader, keyBlockLength: number): string {
  const checked = checkKeyBlockHeader(header);
  if (!Number.isInteger(keyBlockLength) || keyBlockLength < 0 || keyBlockLength > KEY_BLOCK_LENGTH_MAX) {
    throw new KeyBlockError(
      'ERR_TR31_LENGTH',
      `key block length must be 0 to ${KEY_BLOCK_LENGTH_MAX} characters`,
    );
  }
  return (
    checked.version +
    String(keyBlockLength).padStart(4, '0') +
    checked.keyUsage +
    checked.algorithm +
    checked.modeOfUse +
    checked.keyVersionNumber +
    checked.exportability +
    String(checked.optionalBlocks.length).padStart(2, '0') +
    checked.keyContext +
    RESERVED_VALUE +
    checked.optionalBlocks.map(formatOptionalBlock).join('')
  );
}
