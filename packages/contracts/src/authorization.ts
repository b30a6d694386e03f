// How Amulet's parties use ISO 8583:1987 on the authorization path. Every hop (terminal ->
// acquirer -> network -> token service, network -> issuer) speaks the ASCII 1987 spec shipped by
// @amulet/iso8583, framed by @amulet/transport's two-byte length header.

import { iso8583Ascii1987, type MessageSpec } from '@amulet/iso8583';

/** The message spec every Amulet hop speaks. */
export const interchangeSpec: MessageSpec = iso8583Ascii1987;

/** Message type indicators (ISO 8583:1987 clause 4.1). */
export const Mti = {
  authorizationRequest: '0100',
  authorizationResponse: '0110',
  authorizationAdvice: '0120',
  authorizationAdviceRepeat: '0121',
  authorizationAdviceResponse: '0130',
  reversalRequest: '0400',
  reversalResponse: '0410',
  reversalAdvice: '0420',
  reversalAdviceRepeat: '0421',
  reversalAdviceResponse: '0430',
  networkManagementRequest: '0800',
  networkManagementResponse: '0810',
} as const;

/** Data elements by number, named as the 1987 standard names them. */
export const Field = {
  pan: 2,
  processingCode: 3,
  amount: 4,
  transmissionDateTime: 7,
  stan: 11,
  localTime: 12,
  localDate: 13,
  expiry: 14,
  merchantCategoryCode: 18,
  posEntryMode: 22,
  cardSequenceNumber: 23,
  posConditionCode: 25,
  acquiringInstitutionId: 32,
  forwardingInstitutionId: 33,
  retrievalReferenceNumber: 37,
  authorizationIdResponse: 38,
  responseCode: 39,
  terminalId: 41,
  merchantId: 42,
  merchantNameLocation: 43,
  additionalResponseData: 44,
  additionalDataPrivate: 48,
  currencyCode: 49,
  iccData: 55,
  originalDataElements: 90,
} as const;

/** Field 3, processing code: type of transaction (2), from account (2), to account (2). */
export const ProcessingCode = {
  purchase: '000000',
  /** Account verification with a zero amount: the token service's ID&V question to the issuer. */
  accountVerification: '180000',
  refund: '200000',
} as const;

/**
 * Field 22, POS entry mode (1987: n3): PAN entry mode (2) and PIN entry capability (1).
 * '07' is contactless chip (EMV); the third digit 1 means the terminal can accept a PIN.
 */
export const PosEntryMode = {
  contactlessChip: '071',
  contactlessMagstripe: '911',
  contactChip: '051',
  manual: '012',
  ecommerce: '810',
} as const;

/** True when field 22 says the card was read contactless from its chip. */
export function isContactlessChip(posEntryMode: string | undefined): boolean {
  return posEntryMode?.startsWith('07') === true;
}

/** Field 25, POS condition code. */
export const PosConditionCode = { normal: '00', cardholderNotPresent: '01' } as const;

/**
 * Field 90, original data elements (n42): original MTI (4), STAN (6), transmission date and
 * time (10), acquiring institution id (11, zero filled), forwarding institution id (11).
 */
export function originalDataElements(original: {
  readonly mti: string;
  readonly stan: string;
  readonly transmissionDateTime: string;
  readonly acquiringInstitutionId: string;
  readonly forwardingInstitutionId?: string;
}): string {
  const digits = (value: string, length: number, name: string): string => {
    if (!/^[0-9]*$/.test(value) || value.length > length)
      throw new RangeError(`${name} must be at most ${length} digits`);
    return value.padStart(length, '0');
  };
  return (
    digits(original.mti, 4, 'MTI') +
    digits(original.stan, 6, 'STAN') +
    digits(original.transmissionDateTime, 10, 'transmission date and time') +
    digits(original.acquiringInstitutionId, 11, 'acquiring institution id') +
    digits(original.forwardingInstitutionId ?? '', 11, 'forwarding institution id')
  );
}

/** Reads field 90 back into its parts. */
export function parseOriginalDataElements(value: string): {
  mti: string;
  stan: string;
  transmissionDateTime: string;
  acquiringInstitutionId: string;
  forwardingInstitutionId: string;
} {
  if (!/^[0-9]{42}$/.test(value)) throw new RangeError('field 90 must be 42 digits');
  return {
    mti: value.slice(0, 4),
    stan: value.slice(4, 10),
    transmissionDateTime: value.slice(10, 20),
    acquiringInstitutionId: value.slice(20, 31),
    forwardingInstitutionId: value.slice(31, 42),
  };
}

/**
 * The key that makes an authorization unique end to end: acquirer institution, terminal,
 * STAN and transmission date-time. Retransmissions (0101, 0421) carry the same key.
 */
export function transactionKey(parts: {
  readonly acquiringInstitutionId: string;
  readonly terminalId: string;
  readonly stan: string;
  readonly transmissionDateTime: string;
}): string {
  return `${parts.acquiringInstitutionId}/${parts.terminalId}/${parts.stan}/${parts.transmissionDateTime}`;
}
