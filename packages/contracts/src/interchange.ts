// The interchange as code: ISO 8583:1987 (interchangeSpec) as a message codec for
// @amulet/transport (structurally its MessageCodec), the keys that pair and identify messages, and
// the editing helpers every party uses to build answers. One copy for every service.
import { createMessage, type FieldValue, type Iso8583Message, pack, unpack } from '@amulet/iso8583';
import { Field, interchangeSpec, parseOriginalDataElements, transactionKey } from './authorization.ts';

/** What @amulet/transport asks of a codec (its MessageCodec), restated here: packages import no module. */
export interface InterchangeCodec {
  encode(message: Iso8583Message): Uint8Array;
  decode(frame: Uint8Array): Iso8583Message;
  requestKey(message: Iso8583Message): string;
  responseKey(message: Iso8583Message): string;
  isResponse(message: Iso8583Message): boolean;
}

/**
 * ISO 8583:1987 (contracts.interchangeSpec) as a transport codec. A request and its response are
 * paired by acquiring institution (32), terminal (41), STAN (11) and the MTI's exchange: class
 * (second digit) and the request/advice pair of the function (third digit: 0-1 request, 2-3
 * advice, 4-5 notification), so an 0100 and the 0120 advice about it never share a key.
 * Responses must echo fields 11, 32 and 41 as the request carried them (ISO 8583:1987 4.3).
 */
export const interchangeCodec: InterchangeCodec = {
  encode: (message) => pack(interchangeSpec, message),
  decode: (frame) => unpack(interchangeSpec, frame),
  requestKey: pairingKey,
  responseKey: pairingKey,
  isResponse: (message) => isResponseMti(message.mti),
};

/** MTI function digit odd: a response (0110, 0130, 0410, 0430, 0810). */
export function isResponseMti(mti: string): boolean {
  const fn = mti.charCodeAt(2) - 48;
  return fn >= 0 && fn <= 9 && fn % 2 === 1;
}

function pairingKey(message: Iso8583Message): string {
  const fn = message.mti.charCodeAt(2) - 48;
  const exchange = `${message.mti[1] ?? '?'}${fn >= 0 && fn <= 9 ? fn - (fn % 2) : '?'}`;
  return `${text(message, Field.acquiringInstitutionId)}/${text(message, Field.terminalId)}/${text(message, Field.stan)}/${exchange}`;
}

/** A text field's value, or '' when absent or not text. */
export function text(message: Iso8583Message, field: number): string {
  const value = message.fields.get(field);
  return typeof value === 'string' ? value : '';
}

/** Field 32 is n..11; field 90 carries it zero-filled to 11: compare them in that form. */
export function institutionId(value: string): string {
  return value.padStart(11, '0');
}

/** The end-to-end key of an authorization request (contracts.transactionKey), 32 zero-filled. */
export function authorizationKey(message: Iso8583Message): string {
  return transactionKey({
    acquiringInstitutionId: institutionId(text(message, Field.acquiringInstitutionId)),
    terminalId: text(message, Field.terminalId),
    stan: text(message, Field.stan),
    transmissionDateTime: text(message, Field.transmissionDateTime),
  });
}

/**
 * A copy of `message` with some fields set (a value) or removed (`undefined`), and optionally
 * another MTI. The copy masks itself when logged, like every message of the interchange spec.
 */
export function editMessage(
  message: Iso8583Message,
  changes: Readonly<Record<number, FieldValue | undefined>>,
  mti: string = message.mti,
): Iso8583Message {
  const fields = new Map(message.fields);
  for (const [key, value] of Object.entries(changes)) {
    const field = Number(key);
    if (value === undefined) fields.delete(field);
    else fields.set(field, value);
  }
  return createMessage(interchangeSpec, mti, fields);
}

/** A response to `request`: its MTI with the function digit raised by one, and the fields named. */
export function responseTo(
  request: Iso8583Message,
  echo: readonly number[],
  changes: Readonly<Record<number, FieldValue | undefined>>,
): Iso8583Message {
  const fields = new Map<number, FieldValue>();
  for (const field of echo) {
    const value = request.fields.get(field);
    if (value !== undefined) fields.set(field, value);
  }
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) fields.delete(Number(key));
    else fields.set(Number(key), value);
  }
  const fn = Number(request.mti[2]) + 1;
  return createMessage(interchangeSpec, `${request.mti.slice(0, 2)}${fn}0`, fields);
}

/**
 * The transactionKey of the authorization a reversal (0400/0420/0421) undoes: field 90's original
 * STAN, transmission date-time and acquiring institution, with the reversal's own terminal (41).
 * Undefined when field 90 is missing or malformed.
 */
export function originalAuthorizationKey(reversal: Iso8583Message): string | undefined {
  const value = text(reversal, Field.originalDataElements);
  if (!/^[0-9]{42}$/.test(value)) return undefined;
  const original = parseOriginalDataElements(value);
  return transactionKey({
    acquiringInstitutionId: original.acquiringInstitutionId,
    terminalId: text(reversal, Field.terminalId),
    stan: original.stan,
    transmissionDateTime: original.transmissionDateTime,
  });
}
