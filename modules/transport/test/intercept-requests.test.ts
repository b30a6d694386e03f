import { describe, expect, it } from 'vitest';
import { createMemoryTransport, interceptRequests, ManualClock } from '../src/index.ts';
import { answer, type TestMessage, testCodec } from './test-codec.ts';

describe('interceptRequests', () => {
  it('sends through the interceptor and is otherwise the client it wraps', async () => {
    const clock = new ManualClock();
    const transport = createMemoryTransport({ codec: testCodec, clock });
    const server = await transport.listen({ clock, handler: (m) => answer(m) });
    const client = transport.connect(server.endpoint, { clock });
    const seen: string[] = [];
    const wrapped = interceptRequests(client, (message: TestMessage, options) => {
      seen.push(message.stan);
      return client.request(message, options);
    });
    await wrapped.connected();
    expect(wrapped.isConnected).toBe(true);
    const reply = await wrapped.request({ mti: '0100', stan: '000001', terminal: 'T0000001' });
    expect(reply.mti).toBe('0110');
    expect(seen).toEqual(['000001']);
    expect(wrapped.metrics).toBe(client.metrics);
    expect(wrapped.inFlight).toBe(0);
    await wrapped.close();
    expect(client.isConnected).toBe(false);
    await server.close();
  });
});
