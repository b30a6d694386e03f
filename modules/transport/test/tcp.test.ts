import { connect, type Socket } from 'node:net';
import { concat } from '@amulet/bytes';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createTcpTransport,
  encodeFrame,
  FrameDecoder,
  type LengthHeader,
  ManualClock,
  type TcpEndpoint,
  type TransportEvent,
  type TransportServer,
} from '../src/index.ts';
import { answer, outcome, request, type TestMessage, testCodec } from './test-codec.ts';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

/** A raw socket speaking frames by hand, to send what a well-behaved client never would. */
async function rawClient(endpoint: TcpEndpoint, header: LengthHeader = 'binary-2') {
  const socket: Socket = connect(endpoint.port, endpoint.host);
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  const decoder = new FrameDecoder({ header });
  const received: TestMessage[] = [];
  socket.on('data', (chunk) => {
    for (const frame of decoder.push(chunk)) received.push(testCodec.decode(frame));
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  open.push({
    close: () => {
      socket.destroy();
      return closed;
    },
  });
  const frame = (message: TestMessage) => encodeFrame(testCodec.encode(message), { header });
  return { socket, received, closed, frame };
}

async function echoServer(
  header: LengthHeader = 'binary-2',
  events: TransportEvent[] = [],
): Promise<TransportServer<TestMessage, TcpEndpoint>> {
  const transport = createTcpTransport({ codec: testCodec, header });
  const server = await transport.listen({ handler: (m) => answer(m), onEvent: (e) => events.push(e) });
  open.push(server);
  return server;
}

describe('tcp transport', () => {
  it('reads frames split byte by byte and frames coalesced in one write', async () => {
    const server = await echoServer();
    const raw = await rawClient(server.endpoint);
    const one = raw.frame(request(1));
    for (const byte of one) {
      raw.socket.write(Uint8Array.of(byte));
      await new Promise((resolve) => setImmediate(resolve));
    }
    raw.socket.write(concat(raw.frame(request(2)), raw.frame(request(3)), raw.frame(request(4))));
    await vi.waitFor(() => expect(raw.received).toHaveLength(4));
    expect(raw.received.map((m) => m.stan).sort()).toEqual(['000001', '000002', '000003', '000004']);
  });

  it('works with the four-digit ASCII header end to end', async () => {
    const server = await echoServer('ascii-4');
    const client = createTcpTransport({ codec: testCodec, header: 'ascii-4' }).connect(server.endpoint);
    open.unshift(client);
    await client.connected();
    expect((await client.request(request(5))).mti).toBe('0210');
    const raw = await rawClient(server.endpoint, 'ascii-4');
    raw.socket.write(raw.frame(request(6)));
    await vi.waitFor(() => expect(raw.received).toHaveLength(1));
  });

  it('drops a connection that announces an oversize frame and keeps serving others', async () => {
    const events: TransportEvent[] = [];
    const server = await echoServer('binary-2', events);
    const raw = await rawClient(server.endpoint);
    raw.socket.write(Uint8Array.of(0xff, 0xff, 0x01, 0x02));
    await raw.closed;
    expect(server.metrics.malformedFrames).toBe(1);
    const dropped = events.find((e) => e.type === 'malformed-frame');
    expect(dropped).toMatchObject({ error: { code: 'ERR_FRAME_TOO_LARGE' } });
    const good = await rawClient(server.endpoint);
    good.socket.write(good.frame(request(1)));
    await vi.waitFor(() => expect(good.received).toHaveLength(1));
  });

  it('survives garbage: bad headers drop that connection only, the process and server live on', async () => {
    const server = await echoServer('ascii-4');
    for (let i = 0; i < 5; i++) {
      const raw = await rawClient(server.endpoint, 'ascii-4');
      raw.socket.write(Uint8Array.from({ length: 64 }, (_, j) => (j * 37 + i * 11 + 0x41) & 0xff));
      await raw.closed;
    }
    expect(server.metrics.malformedFrames).toBe(5);
    const raw = await rawClient(server.endpoint, 'ascii-4');
    raw.socket.write(raw.frame(request(9)));
    await vi.waitFor(() => expect(raw.received).toHaveLength(1));
  });

  it('keeps the connection when a frame is well formed but its content is not', async () => {
    const server = await echoServer();
    const raw = await rawClient(server.endpoint);
    raw.socket.write(
      concat(encodeFrame(Uint8Array.of(1, 2, 3)), encodeFrame(new Uint8Array(0)), raw.frame(request(2))),
    );
    await vi.waitFor(() => expect(raw.received).toHaveLength(1));
    expect(server.metrics.decodeErrors).toBe(1);
    expect(server.metrics.emptyFrames).toBe(1);
    expect(server.metrics.connectionsClosed).toBe(0);
  });

  it('survives a codec that throws while pairing, and keeps content out of error messages', async () => {
    const pan = '4761739001010010';
    const events: TransportEvent[] = [];
    const touchy = {
      ...testCodec,
      requestKey: (m: TestMessage) => {
        if (m.data === pan) throw new Error('cannot key this message');
        return testCodec.requestKey(m);
      },
    };
    const transport = createTcpTransport({ codec: touchy });
    const server = await transport.listen({ handler: (m) => answer(m), onEvent: (e) => events.push(e) });
    open.push(server);
    const raw = await rawClient(server.endpoint);
    raw.socket.write(
      concat(
        raw.frame({ ...request(1), data: pan }),
        encodeFrame(new TextEncoder().encode(`{"pan":"${pan}"`)),
      ),
    );
    raw.socket.write(raw.frame(request(2)));
    await vi.waitFor(() => expect(raw.received).toHaveLength(1));
    expect(server.metrics.decodeErrors).toBe(2);
    const reported = events.filter((e) => e.type === 'decode-error');
    expect(reported).toHaveLength(2);
    for (const event of reported) {
      const error = (event as { error: Error }).error;
      expect(error).toMatchObject({ code: 'ERR_MESSAGE_DECODE' });
      expect(error.message).not.toContain(pan);
    }
  });

  it('refuses to send a message over the maximum, keeping the connection', async () => {
    const server = await echoServer();
    const client = createTcpTransport({ codec: testCodec, maxFrameBytes: 100 }).connect(server.endpoint);
    open.unshift(client);
    await client.connected();
    expect(await outcome(client.request({ ...request(1), data: 'x'.repeat(200) }))).toBe(
      'ERR_FRAME_TOO_LARGE',
    );
    expect(client.inFlight).toBe(0);
    expect((await client.request(request(2))).stan).toBe('000002');
  });

  it('reconnects with exponential backoff and jitter after the server restarts', async () => {
    const clock = new ManualClock();
    const events: TransportEvent[] = [];
    const transport = createTcpTransport({ codec: testCodec });
    const first = await transport.listen({ handler: (m) => answer(m) });
    const { port } = first.endpoint;
    const client = transport.connect(first.endpoint, {
      clock,
      random: () => 0.5,
      reconnect: { initialDelayMs: 100, factor: 2, jitter: 0.5 },
      onEvent: (e) => events.push(e),
    });
    open.unshift(client);
    await client.connected();
    await first.close();
    const scheduled = () => events.filter((e) => e.type === 'reconnect-scheduled');
    await vi.waitFor(() => expect(scheduled()).toHaveLength(1));
    expect(client.isConnected).toBe(false);
    await clock.advance(74);
    expect(scheduled()).toHaveLength(1);
    await clock.advance(1); // 100 * (1 - 0.5 * 0.5) = 75: the attempt is refused, the next is scheduled
    await vi.waitFor(() => expect(scheduled()).toHaveLength(2));
    expect(scheduled()).toEqual([
      { type: 'reconnect-scheduled', attempt: 1, delayMs: 75 },
      { type: 'reconnect-scheduled', attempt: 2, delayMs: 150 },
    ]);
    const second = await transport.listen({ handler: (m) => answer(m, '01') }, { host: '127.0.0.1', port });
    open.push(second);
    await clock.advance(150);
    await client.connected();
    expect((await client.request(request(3))).responseCode).toBe('01');
    expect(client.metrics.reconnects).toBe(2);
    expect(client.metrics.connectionsOpened).toBe(2);
  });

  it('gives up after the maximum attempts when nothing listens', async () => {
    const clock = new ManualClock();
    const transport = createTcpTransport({ codec: testCodec });
    const server = await transport.listen({ handler: (m) => answer(m) });
    const endpoint = server.endpoint;
    await server.close();
    const client = transport.connect(endpoint, {
      clock,
      random: () => 0,
      reconnect: { maxAttempts: 2, initialDelayMs: 10 },
    });
    open.unshift(client);
    const connected = outcome(client.connected());
    await vi.waitFor(() => expect(client.metrics.reconnects).toBe(1));
    await clock.advance(10);
    await vi.waitFor(() => expect(client.metrics.reconnects).toBe(2));
    await clock.advance(20);
    expect(await connected).toBe('ERR_CONNECT_FAILED');
    expect(await outcome(client.request(request(1)))).toBe('ERR_NOT_CONNECTED');
  });
});
