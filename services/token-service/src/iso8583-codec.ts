import { interchangeSpec } from '@amulet/contracts';
import { getText, type Iso8583Message, pack, unpack } from '@amulet/iso8583';
import type { MessageCodec } from '@amulet/transport';

/** Pairs a request with its response: originator (field 41, else 32), STAN (11), MTI class. */
function key(message: Iso8583Message): string {
  const originator = getText(message, 41) ?? getText(message, 32) ?? '';
  return `${originator.trim()}/${getText(message, 11) ?? ''}/${message.mti.slice(1, 2)}`;
}

/** ISO 8583:1987 on the wire as Amulet's hops speak it (@amulet/contracts interchangeSpec). */
export const iso8583Codec: MessageCodec<Iso8583Message> = {
  encode: (message) => pack(interchangeSpec, message),
  decode: (frame) => unpack(interchangeSpec, frame),
  requestKey: key,
  responseKey: key,
  // ISO 8583 MTI third digit: 0 request, 1 request response, 2 advice, 3 advice response.
  isResponse: (message) => message.mti[2] === '1' || message.mti[2] === '3',
};

/** Field 7, transmission date and time (MMDDhhmmss, UTC). */
export function transmissionDateTime(at: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(at.getUTCMonth() + 1)}${two(at.getUTCDate())}${two(at.getUTCHours())}${two(at.getUTCMinutes())}${two(at.getUTCSeconds())}`;
}
