export { formatKeyBlockHeader, KEY_BLOCK_LENGTH_MAX } from './format-key-block-header.ts';
export { KeyBlockError } from './key-block-error.ts';
export {
  KEY_BLOCK_VERSIONS,
  type KeyBlockHeader,
  type KeyBlockOptionalBlock,
  type KeyBlockVersion,
  type KeyBlockVersionParameters,
} from './key-block-header.ts';
export { parseKeyBlockHeader } from './parse-key-block-header.ts';
export { type UnwrapKeyBlockInput, type UnwrappedKey, unwrapKeyBlock } from './unwrap-key-block.ts';
export { type WrapKeyBlockInput, wrapKeyBlock } from './wrap-key-block.ts';
