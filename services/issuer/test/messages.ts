import {
  encodeTokenData,
  Field,
  interchangeSpec,
  originalDataElements,
  TokenDataId,
} from '@amulet/contracts';
import { createMessage, type FieldValue, type Iso8583Message } from '@amulet/iso8583';

let stan = 0;
export const nextStan = (): string => String((++stan % 999_999) + 1).padStart(6, '0');

export interface RequestParts {
  readonly pan: string;
  readonly amountMinor?: number;
  readonly stan?: string;
  readonly processingCode?: string;
  readonly tokenData?: readonly [string, string][];
  readonly mti?: string;
  readonly expiry?: string;
  readonly mcc?: string;
}

/** An 0100 as the network forwards it to the issuer. */
export function authorizationRequest(parts: RequestParts): Iso8583Message {
  const fields = new Map<number, FieldValue>([
    [Field.pan, parts.pan],
    [Field.processingCode, parts.processingCode ?? '000000'],
    [Field.amount, String(parts.amountMinor ?? 0)],
    [Field.transmissionDateTime, '1203080000'],
    [Field.stan, parts.stan ?? nextStan()],
    [Field.posEntryMode, '071'],
    [Field.acquiringInstitutionId, '12345'],
    [Field.terminalId, 'TERM0001'],
    [Field.merchantId, 'MERCHANT0000001'],
    [Field.currencyCode, '978'],
  ]);
  if (parts.expiry !== undefined) fields.set(Field.expiry, parts.expiry);
  if (parts.mcc !== undefined) fields.set(Field.merchantCategoryCode, parts.mcc);
  if (parts.tokenData !== undefined)
    fields.set(Field.additionalDataPrivate, encodeTokenData(parts.tokenData));
  return createMessage(interchangeSpec, parts.mti ?? '0100', fields);
}

export const verification = (pan: string, extra: readonly [string, string][] = []) =>
  authorizationRequest({
    pan,
    processingCode: '180000',
    tokenData: [[TokenDataId.messageReason, 'TAR'], ...extra],
  });

export const otpCheck = (pan: string, code: string) =>
  authorizationRequest({
    pan,
    processingCode: '180000',
    tokenData: [
      [TokenDataId.messageReason, 'OTP'],
      [TokenDataId.otp, code],
    ],
  });

/** A reversal (0400) or reversal advice (0420/0421) of `original`, with its own STAN. */
export function reversalOf(
  original: Iso8583Message,
  mti: '0400' | '0420' | '0421',
  reversalStan = nextStan(),
): Iso8583Message {
  const text = (n: number) => original.fields.get(n) as string;
  const fields = new Map<number, FieldValue>([
    [Field.pan, text(Field.pan)],
    [Field.processingCode, text(Field.processingCode)],
    [Field.amount, text(Field.amount)],
    [Field.transmissionDateTime, '1203080100'],
    [Field.stan, reversalStan],
    [Field.acquiringInstitutionId, text(Field.acquiringInstitutionId)],
    [Field.terminalId, text(Field.terminalId)],
    [Field.currencyCode, text(Field.currencyCode)],
    [
      Field.originalDataElements,
      originalDataElements({
        mti: original.mti,
        stan: text(Field.stan),
        transmissionDateTime: text(Field.transmissionDateTime),
        acquiringInstitutionId: text(Field.acquiringInstitutionId),
      }),
    ],
  ]);
  return createMessage(interchangeSpec, mti, fields);
}

export function withMti(message: Iso8583Message, mti: string): Iso8583Message {
  return createMessage(interchangeSpec, mti, new Map(message.fields));
}
