import {
  checkMaxFrameBytes,
  defaultLengthHeader,
  defaultMaxFrameBytes,
  headerBytes,
  type LengthHeader,
  writeHeader,
} from './length-header.ts';
import { TransportError } from './transport-error.ts';

export interface FrameOptions {
  readonly header?: LengthHeader;
  readonly maxFrameBytes?: number;
}

/** Prefixes a message with its length header. Throws ERR_FRAME_TOO_LARGE above the maximum. */
export function encodeFrame(message: Uint8Array, options: FrameOptions = {}): Uint8Array {
  const header = options.header ?? defaultLengthHeader;
  const max = checkMaxFrameBytes(header, options.maxFrameBytes ?? defaultMaxFrameBytes);
  if (message.length > max) {
    throw new TransportError('ERR_FRAME_TOO_LARGE', `message of ${message.length} bytes exceeds ${max}`);
  }
  const size = headerBytes(header);
  const frame = new Uint8Array(size + message.length);
  writeHeader(header, message.length, frame);
  frame.set(message, size);
  return frame;
}
