export {
  Field,
  interchangeSpec,
  isContactlessChip,
  Mti,
  originalDataElements,
  PosConditionCode,
  PosEntryMode,
  ProcessingCode,
  parseOriginalDataElements,
  transactionKey,
} from './authorization.ts';
export {
  authorizationKey,
  editMessage,
  type InterchangeCodec,
  institutionId,
  interchangeCodec,
  isResponseMti,
  originalAuthorizationKey,
  responseTo,
  text,
} from './interchange.ts';
export {
  describeResponseCode,
  isApproval,
  ResponseCode,
  type ResponseCodeName,
  type ResponseCodeValue,
} from './response-codes.ts';
export {
  decodeTokenData,
  encodeTokenData,
  TokenDataError,
  TokenDataId,
  type TokenDataKey,
} from './token-data.ts';
