export { createMessage } from './create-message.ts';
export {
  type DescribedField,
  type DescribedMessage,
  type DescribeOptions,
  describeMessage,
} from './describe-message.ts';
export { getBytes, getEmvValue, getSubfields, getText, getTlv } from './field-accessors.ts';
export { formatMessage } from './format-message.ts';
export { type Iso8583DataElement, iso8583DataElements1987 } from './iso8583-1987-fields.ts';
export { iso8583Ascii1987, iso8583Binary1987, shippedSpecs } from './iso8583-1987-specs.ts';
export { Iso8583Error, type Iso8583ErrorCode, iso8583ErrorCodes } from './iso8583-error.ts';
export type { FieldValue, Iso8583Message } from './iso8583-message.ts';
export { maskPan } from './mask-value.ts';
export { messageFromJson } from './message-from-json.ts';
export {
  type BitmapSpec,
  type CompositeSpec,
  DEFAULT_MAX_MESSAGE_SIZE,
  type FieldEncoding,
  type FieldSpec,
  type FieldType,
  type LengthPrefix,
  type MessageSpec,
  type MtiSpec,
  type Padding,
  type PrefixEncoding,
  type PrefixKind,
  type Sensitivity,
} from './message-spec.ts';
export {
  describeMti,
  isRepeat,
  type MessagePair,
  type MtiParts,
  messagePairs,
  parseMti,
  responseMtiFor,
} from './mti.ts';
export { pack } from './pack.ts';
export { parseSpecJson } from './parse-spec-json.ts';
export { unpack } from './unpack.ts';
