export { type DataObject, findDataObject } from './data-object.ts';
export { decodeTlv } from './decode-tlv.ts';
export { type DescribedTlv, describeTlv } from './describe-tlv.ts';
export { checkDolEntryLength, type DolEntry, encodeDol, parseDol } from './dol.ts';
export { buildDolData, splitDolData } from './dol-data.ts';
export { emvDataObjects } from './emv-data-objects.ts';
export { encodeTlv } from './encode-tlv.ts';
export { findTag } from './find-tag.ts';
export { formatTlv } from './format-tlv.ts';
export { encodeTlvLength, MAX_LENGTH_BYTES } from './length.ts';
export { type MaskedValue, maskTlv } from './mask-tlv.ts';
export { isConstructedTag, MAX_TAG_BYTES } from './tag.ts';
export { TlvError, type TlvErrorCode, tlvErrorCodes } from './tlv-error.ts';
export { parseTlvJson } from './tlv-from-json.ts';
export {
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_LENGTH,
  type TlvDecodeOptions,
  type TlvNode,
} from './tlv-node.ts';
