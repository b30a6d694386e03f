import { ApduError } from './apdu-error.ts';
import {
  type CommandApdu,
  isValidIns,
  MAX_EXTENDED_LC,
  MAX_EXTENDED_LE,
  MAX_SHORT_LC,
  MAX_SHORT_LE,
} from './command-apdu.ts';

/**
 * Encodes a command APDU (ISO/IEC 7816-4 5.1), choosing the case from what is present:
 * case 1 header only; case 2 header + Le; case 3 header + Lc + data; case 4 header + Lc + data +
 * Le. Short length fields are used unless the data exceeds 255 bytes or Le exceeds 256, or
 * `extended: true` asks for extended ones; `extended: false` forbids them.
 */
export function encodeCommandApdu(apdu: CommandApdu, options: { extended?: boolean } = {}): Uint8Array {
  const header = checkedHeader(apdu);
  const data = apdu.data ?? new Uint8Array(0);
  if (!(data instanceof Uint8Array) || data.length > MAX_EXTENDED_LC) {
    throw new ApduError(
      'ERR_APDU_DATA',
      `command data must be a Uint8Array of at most ${MAX_EXTENDED_LC} bytes`,
    );
  }
  const le = apdu.le;
  if (le !== undefined && (!Number.isInteger(le) || le < 0 || le > MAX_EXTENDED_LE)) {
    throw new ApduError('ERR_APDU_LE', `Le must be an integer from 0 to ${MAX_EXTENDED_LE}`);
  }
  const needsExtended = data.length > MAX_SHORT_LC || (le ?? 0) > MAX_SHORT_LE;
  if (needsExtended && options.extended === false) {
    throw new ApduError(
      'ERR_APDU_EXTENDED',
      'the command needs extended length fields but they are forbidden',
    );
  }
  const extended = needsExtended || options.extended === true;

  const out: number[] = [...header];
  if (extended) {
    // 5.1, extended: a 00 byte, then Lc and Le on two bytes each; Le 0000 means 65,536.
    if (data.length > 0 || le !== undefined) out.push(0x00);
    if (data.length > 0) out.push(data.length >> 8, data.length & 0xff);
    const body = Uint8Array.from(out);
    const tail = le === undefined ? [] : [(le % MAX_EXTENDED_LE) >> 8, le & 0xff];
    return concatBytes(body, data, tail);
  }
  // 5.1, short: Lc on one byte (01-FF), Le on one byte, 00 meaning 256.
  if (data.length > 0) out.push(data.length);
  return concatBytes(Uint8Array.from(out), data, le === undefined ? [] : [le % MAX_SHORT_LE]);
}

function checkedHeader(apdu: CommandApdu): number[] {
  const header = [apdu?.cla, apdu?.ins, apdu?.p1, apdu?.p2];
  if (!header.every((byte) => Number.isInteger(byte) && byte >= 0 && byte <= 0xff)) {
    throw new ApduError('ERR_APDU_HEADER', 'CLA, INS, P1 and P2 must each be a byte (0 to 255)');
  }
  if (!isValidIns(apdu.ins)) throw new ApduError('ERR_APDU_INS', 'INS 6X and 9X are invalid', { offset: 1 });
  return header;
}

function concatBytes(head: Uint8Array, data: Uint8Array, tail: readonly number[]): Uint8Array {
  const out = new Uint8Array(head.length + data.length + tail.length);
  out.set(head, 0);
  out.set(data, head.length);
  out.set(tail, head.length + data.length);
  return out;
}
