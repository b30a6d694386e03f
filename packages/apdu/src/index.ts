export { ApduError, type ApduErrorCode, apduErrorCodes } from './apdu-error.ts';
export {
  type CommandApdu,
  type DecodedCommandApdu,
  isValidIns,
  MAX_EXTENDED_LC,
  MAX_EXTENDED_LE,
  MAX_SHORT_LC,
  MAX_SHORT_LE,
} from './command-apdu.ts';
export { decodeCommandApdu } from './decode-command-apdu.ts';
export {
  generateAc,
  getData,
  getProcessingOptions,
  getResponse,
  ReferenceControl,
  readRecord,
  selectByName,
} from './emv-commands.ts';
export { encodeCommandApdu } from './encode-command-apdu.ts';
export {
  decodeResponseApdu,
  encodeResponseApdu,
  isValidStatusWord,
  type ResponseApdu,
} from './response-apdu.ts';
export {
  describeStatusWord,
  type StatusCategory,
  StatusWord,
  type StatusWordDescription,
} from './status-word.ts';
