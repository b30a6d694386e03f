// Field 48 (additional data, private use, ISO 8583:1987 LLL ans..999) carries Amulet's token
// data as a run of subelements: two characters of id, two ASCII digits of length, the value.
// The layout follows the card networks' habit for private data (an id, a length, a value), so a
// reader can skip ids it does not know.

/** Subelement ids in field 48. */
export const TokenDataId = {
  /** The token service's reference for the token (never the DPAN itself). */
  tokenReference: '01',
  /** Payment Account Reference (EMVCo, 29 characters). */
  par: '02',
  /** Token requestor id (11 digits). */
  tokenRequestorId: '03',
  /** Reason codes of the token service's verdict, comma separated. */
  verdictReasons: '04',
  /** The device the token is bound to. */
  deviceId: '05',
  /** Last four digits of the DPAN, for the issuer's and the cardholder's records. */
  tokenLastFour: '06',
  /** Token assurance method (EMVCo), e.g. '00' none, '10' card issuer ID&V. */
  assuranceMethod: '07',
  /** Message reason: 'TAR' token activation request, 'OTP' one-time passcode check. */
  messageReason: '10',
  /** The one-time passcode the cardholder typed (on an 'OTP' check only). */
  otp: '11',
  /** Network stand-in: set to 'Y' on advices of stand-in approvals. */
  standIn: '20',
} as const;

export type TokenDataKey = keyof typeof TokenDataId;

export class TokenDataError extends Error {
  readonly code = 'ERR_TOKEN_DATA';
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'TokenDataError';
    this.offset = offset;
  }
}

/** Writes subelements in the order given; values longer than 99 characters are refused. */
export function encodeTokenData(entries: Iterable<readonly [string, string]>): string {
  let out = '';
  for (const [id, value] of entries) {
    if (!/^[0-9A-Z]{2}$/.test(id))
      throw new TokenDataError(`subelement id ${JSON.stringify(id)} is not two characters`, out.length);
    if (value.length > 99)
      throw new TokenDataError(`subelement ${id} is longer than 99 characters`, out.length);
    if (!/^[\x20-\x7e]*$/.test(value))
      throw new TokenDataError(`subelement ${id} holds a character outside printable ASCII`, out.length);
    out += id + String(value.length).padStart(2, '0') + value;
  }
  return out;
}

/** Reads subelements; a repeated id, a bad length or trailing bytes are errors with the offset. */
export function decodeTokenData(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < text.length) {
    if (text.length - at < 4) throw new TokenDataError('subelement header is cut short', at);
    const id = text.slice(at, at + 2);
    const lengthText = text.slice(at + 2, at + 4);
    if (!/^[0-9]{2}$/.test(lengthText))
      throw new TokenDataError(
        `subelement ${JSON.stringify(id)} has a length that is not two digits`,
        at + 2,
      );
    const length = Number(lengthText);
    if (at + 4 + length > text.length)
      throw new TokenDataError(`subelement ${JSON.stringify(id)} runs past the end`, at + 4);
    if (out.has(id)) throw new TokenDataError(`subelement ${JSON.stringify(id)} appears twice`, at);
    out.set(id, text.slice(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return out;
}
