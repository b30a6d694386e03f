import {
  authorizationKey,
  decodeTokenData,
  Field,
  interchangeSpec,
  Mti,
  originalAuthorizationKey,
  ProcessingCode,
  ResponseCode,
  TokenDataId,
} from '@amulet/contracts';
import { createMessage, type FieldValue, type Iso8583Message, maskPan } from '@amulet/iso8583';
import type { MessageHandler, ServerOptions, Transport, TransportServer } from '@amulet/transport';
import type { AuthorizationAnswer } from './authorization-answer.ts';
import type { Issuer } from './issuer.ts';

/** Fields a response carries back from its request (ISO 8583:1987: the request's identifying data). */
const echoed = [
  Field.pan,
  Field.processingCode,
  Field.amount,
  Field.transmissionDateTime,
  Field.stan,
  Field.localTime,
  Field.localDate,
  Field.acquiringInstitutionId,
  Field.forwardingInstitutionId,
  Field.retrievalReferenceNumber,
  Field.terminalId,
  Field.merchantId,
  Field.currencyCode,
  Field.originalDataElements,
] as const;

function text(message: Iso8583Message, field: number): string | undefined {
  const value = message.fields.get(field);
  return typeof value === 'string' ? value : undefined;
}

/** The @amulet/contracts transaction key of a request (32 zero filled); undefined when a part is missing. */
export function requestTransactionKey(message: Iso8583Message): string | undefined {
  const parts = [Field.acquiringInstitutionId, Field.terminalId, Field.stan, Field.transmissionDateTime];
  return parts.every((field) => text(message, field) !== undefined) ? authorizationKey(message) : undefined;
}

/** The transaction key of the original a reversal names (field 90 and the reversal's field 41). */
export function originalTransactionKey(message: Iso8583Message): string | undefined {
  return text(message, Field.terminalId) === undefined ? undefined : originalAuthorizationKey(message);
}

/**
 * The response MTI (ISO 8583:1987 4.1): the message function goes from request (0) to request
 * response (1), or from advice (2) to advice response (3); a repeat (origin 1) is answered as
 * the original is, so 0101 gets 0110 and 0421 gets 0430.
 */
export function responseMti(mti: string): string {
  if (!/^[0-9]{2}[02][0-9]$/.test(mti)) throw new RangeError('not a request or advice MTI');
  return `${mti.slice(0, 2)}${Number(mti[2]) + 1}0`;
}

function respond(
  request: Iso8583Message,
  responseCode: string,
  extra: readonly [number, FieldValue][] = [],
): Iso8583Message {
  const fields = new Map<number, FieldValue>();
  for (const field of echoed) {
    const value = request.fields.get(field);
    if (value !== undefined) fields.set(field, value);
  }
  for (const [field, value] of extra) fields.set(field, value);
  fields.set(Field.responseCode, responseCode);
  return createMessage(interchangeSpec, responseMti(request.mti), fields);
}

function answerMessage(request: Iso8583Message, answer: AuthorizationAnswer): Iso8583Message {
  return respond(
    request,
    answer.responseCode,
    answer.authorizationCode === undefined ? [] : [[Field.authorizationIdResponse, answer.authorizationCode]],
  );
}

const amountOf = (message: Iso8583Message): number => Number(text(message, Field.amount));

/** Answers one request; anything malformed gets '30', a failure inside the issuer '96'. */
async function handle(issuer: Issuer, request: Iso8583Message): Promise<Iso8583Message | undefined> {
  const mti = request.mti;
  const pan = text(request, Field.pan);
  switch (mti) {
    case Mti.networkManagementRequest:
    case '0801':
      return respond(request, ResponseCode.approved);
    case Mti.authorizationRequest:
    case '0101': {
      const key = requestTransactionKey(request);
      const code = text(request, Field.processingCode);
      if (key === undefined || pan === undefined || text(request, Field.amount) === undefined)
        return respond(request, ResponseCode.formatError);
      const expiry = text(request, Field.expiry);
      if (code === ProcessingCode.purchase) {
        const currency = text(request, Field.currencyCode);
        if (currency === undefined) return respond(request, ResponseCode.formatError);
        const mcc = text(request, Field.merchantCategoryCode);
        const entry = text(request, Field.posEntryMode);
        return answerMessage(
          request,
          await issuer.authorize({
            transactionKey: key,
            pan,
            amountMinor: amountOf(request),
            currency,
            ...(expiry === undefined ? {} : { expiry }),
            ...(mcc === undefined ? {} : { merchantCategoryCode: mcc }),
            ...(entry === undefined ? {} : { posEntryMode: entry }),
          }),
        );
      }
      if (code === ProcessingCode.accountVerification) {
        let tokenData: Map<string, string>;
        try {
          tokenData = decodeTokenData(text(request, Field.additionalDataPrivate) ?? '');
        } catch {
          return respond(request, ResponseCode.formatError);
        }
        const reason = tokenData.get(TokenDataId.messageReason);
        if (amountOf(request) !== 0) return respond(request, ResponseCode.invalidAmount);
        if (reason === 'TAR') {
          const trid = tokenData.get(TokenDataId.tokenRequestorId);
          const device = tokenData.get(TokenDataId.deviceId);
          return answerMessage(
            request,
            await issuer.verifyAccount({
              transactionKey: key,
              pan,
              ...(expiry === undefined ? {} : { expiry }),
              ...(trid === undefined ? {} : { tokenRequestorId: trid }),
              ...(device === undefined ? {} : { deviceId: device }),
            }),
          );
        }
        if (reason === 'OTP') {
          const otp = tokenData.get(TokenDataId.otp);
          if (otp === undefined) return respond(request, ResponseCode.formatError);
          return answerMessage(request, await issuer.checkOtp({ transactionKey: key, pan, code: otp }));
        }
        return respond(request, ResponseCode.formatError);
      }
      return respond(request, ResponseCode.invalidTransaction);
    }
    case Mti.authorizationAdvice:
    case Mti.authorizationAdviceRepeat: {
      const key = requestTransactionKey(request);
      const currency = text(request, Field.currencyCode);
      if (
        key === undefined ||
        pan === undefined ||
        currency === undefined ||
        text(request, Field.amount) === undefined
      )
        return respond(request, ResponseCode.formatError);
      const code = text(request, Field.authorizationIdResponse);
      await issuer.postAdvice({
        transactionKey: key,
        pan,
        amountMinor: amountOf(request),
        currency,
        ...(code === undefined ? {} : { authorizationCode: code }),
      });
      return respond(request, ResponseCode.approved);
    }
    case Mti.reversalRequest:
    case '0401':
    case Mti.reversalAdvice:
    case Mti.reversalAdviceRepeat: {
      const originalKey = originalTransactionKey(request);
      if (originalKey === undefined) return respond(request, ResponseCode.formatError);
      await issuer.reverse({ originalKey, mti });
      return respond(request, ResponseCode.approved);
    }
    default: {
      // A request of a class the issuer does not take; responses and unknown MTIs get nothing.
      try {
        return mti[2] === '0' || mti[2] === '2'
          ? respond(request, ResponseCode.invalidTransaction)
          : undefined;
      } catch {
        return undefined;
      }
    }
  }
}

/** The transport handler of the issuer's ISO 8583 endpoint; every request is logged with its PAN masked. */
export function issuerMessageHandler(issuer: Issuer): MessageHandler<Iso8583Message> {
  return async (request) => {
    let response: Iso8583Message | undefined;
    try {
      response = await handle(issuer, request);
    } catch (error) {
      // The code only: an error message might quote input.
      const code = (error as { code?: unknown } | null)?.code;
      issuer.log({
        event: 'iso8583-error',
        mti: request.mti,
        outcome: typeof code === 'string' ? code : 'unknown',
      });
      response = /^[0-9]{2}[02][0-9]$/.test(request.mti)
        ? respond(request, ResponseCode.systemMalfunction)
        : undefined;
    }
    const pan = text(request, Field.pan);
    issuer.log({
      event: 'iso8583',
      mti: request.mti,
      ...(text(request, Field.stan) === undefined ? {} : { stan: text(request, Field.stan) as string }),
      ...(pan === undefined ? {} : { panMasked: maskPan(pan) }),
      ...(response === undefined ? {} : { responseCode: text(response, Field.responseCode) as string }),
    });
    return response;
  };
}

/** Opens the issuer's ISO 8583 endpoint on a transport (TCP or in memory). */
export function listenIssuer<E>(
  issuer: Issuer,
  transport: Transport<Iso8583Message, E>,
  endpoint?: E,
  options: Omit<ServerOptions<Iso8583Message>, 'handler'> = {},
): Promise<TransportServer<Iso8583Message, E>> {
  return transport.listen({ ...options, handler: issuerMessageHandler(issuer) }, endpoint);
}
