import type { Iso8583Message } from '@amulet/iso8583';
import { interchangeCodec } from '@amulet/network';
import { createMemoryTransport, type TransportClient } from '@amulet/transport';

/**
 * An acquirer that answers by rote over an in-memory ISO 8583 transport and records every message
 * that reached it; `close` ends the connection and the server.
 */
export async function scriptedAcquirer(answer: (m: Iso8583Message) => Iso8583Message | undefined): Promise<{
  client: TransportClient<Iso8583Message>;
  seen: Iso8583Message[];
  close: () => Promise<void>;
}> {
  const transport = createMemoryTransport<Iso8583Message>({ codec: interchangeCodec });
  const seen: Iso8583Message[] = [];
  const server = await transport.listen(
    {
      handler: (m) => {
        seen.push(m);
        return answer(m);
      },
    },
    { name: 'acquirer' },
  );
  const client = transport.connect({ name: 'acquirer' });
  await client.connected();
  return {
    client,
    seen,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}
