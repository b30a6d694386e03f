/**
 * Counters kept by every client and server, as a plain object the owner reads (and may export to
 * its metrics system). Only counts: no message content is ever recorded.
 */
export interface TransportMetrics {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Zero-length frames received and skipped as keep-alives. */
  emptyFrames: number;
  requestsSent: number;
  responsesMatched: number;
  timeouts: number;
  /** Responses that arrived after their request timed out; dropped. */
  lateResponses: number;
  /** Responses that match no request in flight and none that timed out recently; dropped. */
  unmatchedResponses: number;
  /** Requests refused with ERR_TOO_MANY_IN_FLIGHT or ERR_DUPLICATE_KEY. */
  requestsRejected: number;
  /** Frames whose length header was malformed or too large (each drops a connection). */
  malformedFrames: number;
  /** Frames whose content the codec rejected (the connection is kept). */
  decodeErrors: number;
  /** Handlers that threw or rejected; nothing was answered. */
  handlerErrors: number;
  /** Incoming requests with no handler to take them; dropped. */
  unhandledRequests: number;
  connectionsOpened: number;
  connectionsClosed: number;
  /** Reconnection attempts made by a client after losing or failing to open its connection. */
  reconnects: number;
}

export function createTransportMetrics(): TransportMetrics {
  return {
    framesIn: 0,
    framesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    emptyFrames: 0,
    requestsSent: 0,
    responsesMatched: 0,
    timeouts: 0,
    lateResponses: 0,
    unmatchedResponses: 0,
    requestsRejected: 0,
    malformedFrames: 0,
    decodeErrors: 0,
    handlerErrors: 0,
    unhandledRequests: 0,
    connectionsOpened: 0,
    connectionsClosed: 0,
    reconnects: 0,
  };
}
