import { interchangeSpec } from '@amulet/contracts';
import type { Iso8583Message } from '@amulet/iso8583';
import { interceptRequests, type TransportClient } from '@amulet/transport';
import type { Trace } from '../demo/trace.ts';

/**
 * A client that writes every request and its answer to the trace (decoded and masked by
 * trace.ts) and otherwise behaves as the client it wraps. Without a trace it is the client itself.
 */
export function tracedClient(
  client: TransportClient<Iso8583Message>,
  trace: Trace | undefined,
  from: string,
  to: string,
): TransportClient<Iso8583Message> {
  if (trace === undefined) return client;
  return interceptRequests(client, async (message, options) => {
    trace.iso8583(interchangeSpec, from, to, message);
    const answer = await client.request(message, options);
    trace.iso8583(interchangeSpec, to, from, answer);
    return answer;
  });
}
