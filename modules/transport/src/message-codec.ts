/**
 * What the transport needs to know about the messages it carries. The transport never looks
 * inside a message: it encodes, decodes and pairs requests with responses through this interface.
 */
export interface MessageCodec<M> {
  encode(message: M): Uint8Array;
  /** May throw (an AmuletError) for a malformed message; the transport reports it and keeps the connection. */
  decode(frame: Uint8Array): M;
  /**
   * Key that pairs a request with its response: for ISO 8583, originator identity (e.g. field
   * 32/41) + STAN (field 11) + MTI class.
   */
  requestKey(message: M): string;
  responseKey(message: M): string;
  isResponse(message: M): boolean;
}
