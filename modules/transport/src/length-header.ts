import { TransportError } from './transport-error.ts';

/**
 * How a frame's length is written in front of it.
 * - `binary-2`: two bytes, unsigned big-endian (the common ISO 8583 over TCP header); up to 65535.
 * - `ascii-4`: four ASCII decimal digits, zero-padded (`0312`); up to 9999.
 * The length counts the message bytes only, not the header.
 */
export type LengthHeader = 'binary-2' | 'ascii-4';

export const defaultLengthHeader: LengthHeader = 'binary-2';

/** Default maximum message length in bytes; ISO 8583 messages are a few hundred bytes. */
export const defaultMaxFrameBytes = 8192;

export function headerBytes(header: LengthHeader): number {
  return header === 'binary-2' ? 2 : 4;
}

/** The largest length the header can express. */
export function headerCapacity(header: LengthHeader): number {
  return header === 'binary-2' ? 0xffff : 9999;
}

/** Checks a configured maximum against what the header can express. */
export function checkMaxFrameBytes(header: LengthHeader, maxFrameBytes: number): number {
  if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 1 || maxFrameBytes > headerCapacity(header)) {
    throw new TransportError(
      'ERR_OPTIONS',
      `maxFrameBytes must be an integer from 1 to ${headerCapacity(header)} for a ${header} header`,
    );
  }
  return maxFrameBytes;
}

/** Reads a complete header; throws ERR_FRAME_HEADER for anything but four decimal digits in `ascii-4`. */
export function readHeader(header: LengthHeader, bytes: Uint8Array, offset: number): number {
  if (header === 'binary-2') return (bytes[0]! << 8) | bytes[1]!;
  let length = 0;
  for (let i = 0; i < 4; i++) {
    const digit = bytes[i]! - 0x30;
    if (digit < 0 || digit > 9) {
      throw new TransportError('ERR_FRAME_HEADER', 'length header is not four ASCII decimal digits', {
        offset: offset + i,
      });
    }
    length = length * 10 + digit;
  }
  return length;
}

/** Writes the header for `length` into `target` at 0. */
export function writeHeader(header: LengthHeader, length: number, target: Uint8Array): void {
  if (header === 'binary-2') {
    target[0] = length >>> 8;
    target[1] = length & 0xff;
    return;
  }
  let rest = length;
  for (let i = 3; i >= 0; i--) {
    target[i] = 0x30 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
}
