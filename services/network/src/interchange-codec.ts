import { Field, interchangeSpec, transactionKey } from '@amulet/contracts';
import { type Iso8583Message, pack, unpack } from '@amulet/iso8583';
import type { MessageCodec } from '@amulet/transport';

/**
 * ISO 8583:1987 (contracts.interchangeSpec) as a transport codec. A request and its response are
 * paired by acquiring institution (32), terminal (41), STAN (11) and the MTI's exchange: class
 * (second digit) and the request/advice pair of the function (third digit: 0-1 request, 2-3
 * advice, 4-5 notification), so an 0100 and the 0120 advice about it never share a key.
 * Responses must echo fields 11, 32 and 41 as the request carried them (ISO 8583:1987 4.3).
 */
export const interchangeCodec: MessageCodec<Iso8583Message> = {
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
