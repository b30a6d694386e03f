import type { MessageCodec } from './message-codec.ts';
import { TransportError } from './transport-error.ts';

/** Encodes an outgoing message and checks it fits a frame; codec errors pass through unchanged. */
export function encodeMessage<M>(codec: MessageCodec<M>, message: M, maxFrameBytes: number): Uint8Array {
  const bytes = codec.encode(message);
  if (bytes.length > maxFrameBytes) {
    throw new TransportError(
      'ERR_FRAME_TOO_LARGE',
      `message of ${bytes.length} bytes exceeds ${maxFrameBytes}`,
    );
  }
  return bytes;
}
