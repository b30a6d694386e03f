import { connect, type Socket } from 'node:net';
import { fromHex } from '@amulet/bytes';
import { SecureElementError } from './secure-element-error.ts';

/**
 * The SE as a virtual card of vsmartcard's vpcd (the pcscd driver of Debian's vsmartcard-vpcd):
 * the card connects to vpcd over TCP (default port 35963) and every PC/SC application then sees
 * it in a reader. The protocol (vsmartcard, "vpcd"): each message is a 2-byte big-endian length
 * and that many bytes; a 1-byte message is a control code (00 power off, 01 power on, 02 reset,
 * 04 ask for the ATR: the card answers its ATR), anything longer is a command APDU and the card
 * answers the response APDU.
 */

export const VPCD_PORT_DEFAULT = 35963;
/** ISO/IEC 7816-3 ATR: TS 3B, T0 80, TD1 80, TD2 01 (T=1), TCK 01; no historical bytes. */
export const VPCD_ATR = fromHex('3B80800101');

export const VpcdControl = { POWER_OFF: 0x00, POWER_ON: 0x01, RESET: 0x02, ATR: 0x04 } as const;

/** Splits a byte stream into vpcd messages; bounded by the 2-byte length (65,535). */
export class VpcdFrameReader {
  #buffer: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): Uint8Array[] {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    const frames: Uint8Array[] = [];
    let offset = 0;
    while (joined.length - offset >= 2) {
      const length = ((joined[offset] ?? 0) << 8) | (joined[offset + 1] ?? 0);
      if (joined.length - offset - 2 < length) break;
      frames.push(joined.slice(offset + 2, offset + 2 + length));
      offset += 2 + length;
    }
    this.#buffer = joined.slice(offset);
    return frames;
  }
}

export function encodeVpcdFrame(payload: Uint8Array): Uint8Array {
  if (payload.length > 0xffff)
    throw new SecureElementError('ERR_SE_TRANSPORT', 'a vpcd message is at most 65,535 bytes');
  const out = new Uint8Array(payload.length + 2);
  out[0] = payload.length >> 8;
  out[1] = payload.length & 0xff;
  out.set(payload, 2);
  return out;
}

export interface VpcdCard {
  /** Resolves when the connection to vpcd ends. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/**
 * Connects an SE to vpcd as a virtual card. `transmit` answers APDUs (SecureElement.transmit);
 * `reset` is called at power off and reset (SecureElement.fieldReset). Rejects with
 * `ERR_SE_TRANSPORT` when vpcd cannot be reached.
 */
export async function connectVpcd(
  card: { transmit(apdu: Uint8Array): Uint8Array; reset?(): void },
  options: { readonly host?: string; readonly port?: number; readonly atr?: Uint8Array } = {},
): Promise<VpcdCard> {
  const atr = options.atr ?? VPCD_ATR;
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect({ host: options.host ?? '127.0.0.1', port: options.port ?? VPCD_PORT_DEFAULT });
    s.once('connect', () => resolve(s));
    s.once('error', () => reject(new SecureElementError('ERR_SE_TRANSPORT', 'cannot connect to vpcd')));
  });
  socket.setNoDelay(true);
  const reader = new VpcdFrameReader();
  socket.on('data', (chunk: Buffer) => {
    for (const frame of reader.push(new Uint8Array(chunk))) {
      if (frame.length === 1) {
        const code = frame[0];
        if (code === VpcdControl.ATR) socket.write(encodeVpcdFrame(atr));
        else if (code === VpcdControl.POWER_OFF || code === VpcdControl.RESET) card.reset?.();
        // POWER_ON needs no answer; unknown control codes are ignored, as vpicc does.
      } else {
        socket.write(encodeVpcdFrame(card.transmit(frame)));
      }
    }
  });
  const closed = new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
  });
  socket.on('error', () => socket.destroy());
  return {
    closed,
    close: async () => {
      socket.end();
      socket.destroy();
      await closed;
    },
  };
}
