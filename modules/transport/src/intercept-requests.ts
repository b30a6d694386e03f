import type { RequestOptions, TransportClient } from './transport.ts';

/**
 * A client whose requests go through `request` (which usually calls `client.request` itself, to
 * trace or time it) and which is otherwise the client it wraps: the same metrics, connection
 * state, requests in flight, `connected` and `close`.
 */
export function interceptRequests<M>(
  client: TransportClient<M>,
  request: (message: M, options?: RequestOptions) => Promise<M>,
): TransportClient<M> {
  return {
    get metrics() {
      return client.metrics;
    },
    get isConnected() {
      return client.isConnected;
    },
    get inFlight() {
      return client.inFlight;
    },
    request,
    connected: () => client.connected(),
    close: () => client.close(),
  };
}
