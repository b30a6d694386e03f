import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type ClientOptions,
  createMemoryTransport,
  createTcpTransport,
  type ServerOptions,
  type Transport,
  type TransportClient,
  type TransportEvent,
  type TransportServer,
} from '../src/index.ts';
import { answer, deferred, outcome, request, type TestMessage, testCodec } from './test-codec.ts';

/**
 * One suite, run against every Transport: what a caller may rely on whichever carries its
 * messages. Real clock, short timeouts.
 */
type AnyTransport = Transport<TestMessage, unknown>;

const transports: [string, () => AnyTransport][] = [
  ['tcp', () => createTcpTransport({ codec: testCodec }) as AnyTransport],
  ['memory', () => createMemoryTransport({ codec: testCodec }) as AnyTransport],
];

describe.each(transports)('%s transport conformance', (_name, makeTransport) => {
  const open: { close(): Promise<void> }[] = [];

  afterEach(async () => {
    await Promise.all(open.splice(0).map((x) => x.close()));
  });

  async function setup(
    serverOptions: ServerOptions<TestMessage>,
    clientOptions: ClientOptions<TestMessage> = {},
  ): Promise<{ server: TransportServer<TestMessage, unknown>; client: TransportClient<TestMessage> }> {
    const transport = makeTransport();
    const server = await transport.listen(serverOptions);
    open.push(server);
    const client = transport.connect(server.endpoint, clientOptions);
    open.unshift(client);
    await client.connected();
    return { server, client };
  }

  it('answers each request with its own response', async () => {
    const { client, server } = await setup({ handler: (m) => answer(m) });
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => client.request(request(i + 1))));
    responses.forEach((response, i) => {
      expect(response).toEqual(answer(request(i + 1)));
    });
    expect(client.metrics.responsesMatched).toBe(20);
    expect(server.metrics.framesIn).toBe(20);
    expect(server.metrics.framesOut).toBe(20);
    expect(client.inFlight).toBe(0);
  });

  it('matches responses that come back out of order', async () => {
    const gates = Array.from({ length: 5 }, () => deferred());
    let entered = 0;
    const { client } = await setup({
      handler: async (m) => {
        entered++;
        await gates[Number(m.stan) - 1]!.promise;
        return answer(m, `R${m.stan.slice(-1)}`);
      },
    });
    const pending = gates.map((_, i) => client.request(request(i + 1)));
    const order: number[] = [];
    pending.forEach((p, i) => {
      p.then(() => order.push(i + 1));
    });
    await vi.waitFor(() => expect(entered).toBe(5));
    for (const gate of [...gates].reverse()) gate.resolve();
    const responses = await Promise.all(pending);
    responses.forEach((response, i) => {
      expect(response.stan).toBe(request(i + 1).stan);
      expect(response.responseCode).toBe(`R${i + 1}`);
    });
    expect(order).toEqual([5, 4, 3, 2, 1]);
  });

  it('times out, drops the late response, and never gives it to another request', async () => {
    const release = deferred();
    const events: TransportEvent[] = [];
    const { client } = await setup(
      {
        handler: async (m) => {
          if (m.stan === request(1).stan) await release.promise;
          return answer(m, m.stan === request(1).stan ? 'LATE' : '00');
        },
      },
      { onEvent: (e) => events.push(e) },
    );
    expect(await outcome(client.request(request(1), { timeoutMs: 30 }))).toBe('ERR_TIMEOUT');
    expect(client.metrics.timeouts).toBe(1);
    // The key stays reserved for the late response.
    expect(await outcome(client.request(request(1), { timeoutMs: 30 }))).toBe('ERR_DUPLICATE_KEY');
    release.resolve();
    await vi.waitFor(() => expect(client.metrics.lateResponses).toBe(1));
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'late-response', key: 'T0000001/000001/2' }),
    );
    const other = await client.request(request(2));
    expect(other.responseCode).toBe('00');
    // Once the late response has been seen, the key is free again.
    expect((await client.request(request(1))).responseCode).toBe('LATE');
  });

  it('refuses a second request with a key already in flight', async () => {
    const release = deferred();
    const { client } = await setup({
      handler: async (m) => {
        await release.promise;
        return answer(m);
      },
    });
    const first = client.request(request(7));
    expect(await outcome(client.request(request(7)))).toBe('ERR_DUPLICATE_KEY');
    release.resolve();
    expect((await first).stan).toBe('000007');
    expect(client.metrics.requestsRejected).toBe(1);
  });

  it('bounds the requests a client has in flight', async () => {
    const release = deferred();
    const { client } = await setup(
      {
        handler: async (m) => {
          await release.promise;
          return answer(m);
        },
      },
      { maxInFlight: 2 },
    );
    const first = client.request(request(1));
    const second = client.request(request(2));
    expect(await outcome(client.request(request(3)))).toBe('ERR_TOO_MANY_IN_FLIGHT');
    expect(client.inFlight).toBe(2);
    release.resolve();
    await Promise.all([first, second]);
    expect(await outcome(client.request(request(3)))).toBe('resolved');
  });

  it('bounds the handlers running per connection and still answers every request', async () => {
    let running = 0;
    let peak = 0;
    const { client } = await setup({
      maxHandlersInFlight: 2,
      handler: async (m) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 2));
        running--;
        return answer(m);
      },
    });
    const responses = await Promise.all(Array.from({ length: 12 }, (_, i) => client.request(request(i + 1))));
    expect(responses.map((r) => r.stan)).toEqual(Array.from({ length: 12 }, (_, i) => request(i + 1).stan));
    expect(peak).toBe(2);
  });

  it('closes the server gracefully: in-flight handlers finish and their answers arrive', async () => {
    const release = deferred();
    const entered = deferred();
    const { client, server } = await setup({
      handler: async (m) => {
        entered.resolve();
        await release.promise;
        return answer(m);
      },
    });
    const inFlight = client.request(request(1));
    await entered.promise;
    let closed = false;
    const closing = server.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(closed).toBe(false);
    release.resolve();
    expect((await inFlight).stan).toBe('000001');
    await closing;
    expect(closed).toBe(true);
    await vi.waitFor(() => expect(client.isConnected).toBe(false));
    expect(await outcome(client.request(request(2)))).toBe('ERR_NOT_CONNECTED');
  });

  it('closes the client: in-flight requests fail with ERR_CLOSED, later ones too', async () => {
    const { client } = await setup({ handler: () => new Promise<undefined>(() => {}) });
    const inFlight = outcome(client.request(request(1)));
    await client.close();
    expect(await inFlight).toBe('ERR_CLOSED');
    expect(await outcome(client.request(request(2)))).toBe('ERR_CLOSED');
    expect(client.isConnected).toBe(false);
  });

  it('fails the requests in flight when the connection is lost', async () => {
    const entered = deferred();
    const { client, server } = await setup({
      drainTimeoutMs: 1,
      handler: () => {
        entered.resolve();
        return new Promise<undefined>(() => {});
      },
    });
    const inFlight = client.request(request(1));
    await entered.promise;
    const closing = server.close();
    expect(await outcome(inFlight)).toBe('ERR_CONNECTION_LOST');
    await closing;
  });

  it('lets the server ask the client, whose handler answers unsolicited messages', async () => {
    let echo: TestMessage | undefined;
    const { client } = await setup(
      {
        handler: async (m, context) => {
          echo = await context.request(request(900, '0800', 'NETWORK'), { timeoutMs: 1000 });
          return answer(m);
        },
      },
      { handler: (m) => answer(m) },
    );
    await client.request(request(1));
    expect(echo).toEqual(answer(request(900, '0800', 'NETWORK')));
  });

  it('keeps reading responses while requests wait for a busy handler', async () => {
    // Both handler slots are busy asking the client something and a third request waits: the
    // client's answers must still be read from the same connection.
    const { client } = await setup(
      {
        maxHandlersInFlight: 2,
        handler: async (m, context) => {
          const echo = await context.request(request(Number(m.stan) + 800, '0800', 'NETWORK'), {
            timeoutMs: 300,
          });
          return answer(m, echo.responseCode);
        },
      },
      { handler: (m) => answer(m, 'EC') },
    );
    const responses = await Promise.all(
      [1, 2, 3].map((stan) => client.request(request(stan), { timeoutMs: 1000 })),
    );
    expect(responses.map((r) => r.responseCode)).toEqual(['EC', 'EC', 'EC']);
  });

  it('drops unsolicited requests when the client has no handler', async () => {
    const { client, server } = await setup({ handler: (m) => answer(m) });
    const [connection] = server.connections();
    expect(await outcome(connection!.request(request(901, '0800', 'NETWORK'), { timeoutMs: 20 }))).toBe(
      'ERR_TIMEOUT',
    );
    expect(client.metrics.unhandledRequests).toBe(1);
  });

  it('keeps the connection after malformed content, and lets the application answer it', async () => {
    const events: TransportEvent[] = [];
    const { client, server } = await setup({
      onEvent: (e) => events.push(e),
      handler: (m) => answer(m),
      onMalformed: (frame) => {
        // The test codec's corrupt form is '!' + JSON: enough to answer with a format error.
        const original = JSON.parse(new TextDecoder().decode(frame.subarray(1))) as TestMessage;
        return answer({ ...original, corrupt: false }, '30');
      },
    });
    const rejected = await client.request({ ...request(1), corrupt: true });
    expect(rejected.responseCode).toBe('30');
    expect((await client.request(request(2))).responseCode).toBe('00');
    expect(server.metrics.decodeErrors).toBe(1);
    expect(server.metrics.connectionsClosed).toBe(0);
    expect(events.map((e) => e.type)).toContain('decode-error');
  });

  it('holds requests made while connecting when told to wait', async () => {
    const transport = makeTransport();
    const server = await transport.listen({ handler: (m) => answer(m) });
    open.push(server);
    const client = transport.connect(server.endpoint, { whenDisconnected: 'wait' });
    open.unshift(client);
    expect(client.isConnected).toBe(false);
    expect((await client.request(request(1), { timeoutMs: 1000 })).stan).toBe('000001');
  });

  it('fails fast while connecting by default', async () => {
    const transport = makeTransport();
    const server = await transport.listen({ handler: (m) => answer(m) });
    open.push(server);
    const client = transport.connect(server.endpoint);
    open.unshift(client);
    expect(await outcome(client.request(request(1)))).toBe('ERR_NOT_CONNECTED');
  });

  it('reports a handler that throws and keeps serving', async () => {
    const { client, server } = await setup({
      handler: (m) => {
        if (m.stan === '000001') throw new Error('boom');
        return answer(m);
      },
    });
    expect(await outcome(client.request(request(1), { timeoutMs: 30 }))).toBe('ERR_TIMEOUT');
    expect((await client.request(request(2))).stan).toBe('000002');
    expect(server.metrics.handlerErrors).toBe(1);
  });
});
