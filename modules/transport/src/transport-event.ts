/**
 * Things worth telling the owner about, delivered to the optional `onEvent` callback. Events carry
 * matching keys, connection ids and errors (whose messages hold no message values), never content.
 */
export type TransportEvent =
  | { readonly type: 'connection-opened'; readonly connectionId: string }
  | { readonly type: 'connection-closed'; readonly connectionId: string; readonly error?: unknown }
  | { readonly type: 'late-response'; readonly connectionId: string; readonly key: string }
  | { readonly type: 'unmatched-response'; readonly connectionId: string; readonly key: string }
  | { readonly type: 'malformed-frame'; readonly connectionId: string; readonly error: unknown }
  | { readonly type: 'decode-error'; readonly connectionId: string; readonly error: unknown }
  | { readonly type: 'handler-error'; readonly connectionId: string; readonly error: unknown }
  | { readonly type: 'unhandled-request'; readonly connectionId: string; readonly key: string }
  | { readonly type: 'reconnect-scheduled'; readonly attempt: number; readonly delayMs: number };

export type TransportEventListener = (event: TransportEvent) => void;
