import { AmuletError, type AmuletErrorOptions } from '@amulet/bytes';

/**
 * Every failure of the ISO 8583 codec. `path` names the field and subfield (`['55', '9F26']`,
 * `['48', '2']`), `offset` the byte in the message where the problem starts. Like moov-io's safe
 * errors, a message names fields, positions and lengths only, never a value, so an error can be
 * logged without leaking a PAN or a cryptogram.
 */
export class Iso8583Error extends AmuletError {
  override readonly code: Iso8583ErrorCode;

  constructor(code: Iso8583ErrorCode, message: string, options: AmuletErrorOptions = {}) {
    super(code, message, options);
    this.code = code;
  }
}

/** The stable codes an `Iso8583Error` carries. docs/iso8583.md lists the same. */
export const iso8583ErrorCodes = {
  ERR_ISO8583_UNPACK:
    'the bytes are not a message of the spec: truncated, a bad digit, a length out of range, bytes left over',
  ERR_ISO8583_PACK:
    'a field value does not fit its spec: wrong kind of value, bad character, too long or too short',
  ERR_ISO8583_FIELD: 'a field number is not in the spec or out of 2-192 (or is 65, the tertiary bitmap bit)',
  ERR_ISO8583_MTI: 'an MTI is not four digits, or has no response in the message pair table',
  ERR_ISO8583_SIZE: 'a message is larger than the spec maxMessageSize',
  ERR_ISO8583_SPEC: 'a spec (TypeScript or JSON) is malformed; the message names the property',
  ERR_ISO8583_JSON: 'a message in JSON form is malformed or holds masked values',
} as const;

export type Iso8583ErrorCode = keyof typeof iso8583ErrorCodes;

/** `field 55 > 9F26`, for messages. */
export function describePath(path: readonly string[]): string {
  return path.length === 0 ? 'the message' : `field ${path.join(' > ')}`;
}
