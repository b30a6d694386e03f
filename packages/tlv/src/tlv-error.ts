import { AmuletError } from '@amulet/bytes';

/**
 * Every failure of the TLV codec, the dictionary helpers and the DOL functions. `offset` is the
 * byte offset in the input where the problem starts, `path` the tags from the outermost template
 * down to the object being read (`['70', '57']`). Messages name positions, tags and lengths only,
 * never a value.
 */
export class TlvError extends AmuletError {}

/** The stable codes a `TlvError` carries, with what each one means. docs/tlv.md lists the same. */
export const tlvErrorCodes = {
  ERR_TLV_INPUT: 'the input is not a Uint8Array, or an option is out of range',
  ERR_TLV_TAG: 'a tag is malformed: longer than 4 bytes, starts with 00, or is not well-formed hex',
  ERR_TLV_TRUNCATED: 'the input ends inside a tag, a length or a value',
  ERR_TLV_LENGTH: 'a length uses the indefinite form, more than 4 length bytes, or exceeds maxLength',
  ERR_TLV_NON_MINIMAL_LENGTH: 'a length is not in its shortest form (for example 81 01)',
  ERR_TLV_DEPTH: 'templates are nested deeper than maxDepth',
  ERR_TLV_NODE: 'a node to encode is inconsistent (children on a primitive tag, both value and children)',
  ERR_TLV_JSON: 'a JSON tree to encode is malformed or holds masked values',
  ERR_DOL_LENGTH: 'DOL data of the wrong total length, or a DOL entry length outside 0 to 255',
  ERR_DOL_VALUE: 'a value given to buildDolData is not a Uint8Array',
  ERR_DOL_DUPLICATE_TAG: 'a DOL names the same tag twice, so its data cannot be split by tag',
} as const;

export type TlvErrorCode = keyof typeof tlvErrorCodes;

/** `at offset 4 in E0 > 9C`: where an error happened, for messages. */
export function describePosition(offset: number, path: readonly string[]): string {
  return path.length === 0 ? `at offset ${offset}` : `at offset ${offset} in ${path.join(' > ')}`;
}
