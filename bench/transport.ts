/**
 * Loopback TCP round trips through @amulet/transport: requests per second and p50/p99 latency
 * with 1 and with 64 requests in flight, a ~300-byte message and an echo handler.
 *
 * The server runs in a child process (its own event loop, as an acquirer would), the client here.
 * `--in-process` runs both in this process instead. Run with `npx tsx bench/transport.ts`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createTcpTransport, type MessageCodec, type TcpEndpoint } from '../modules/transport/src/index.ts';

const messageBytes = 300;
const latin1 = new TextDecoder('latin1');

/**
 * A fixed binary layout standing in for ISO 8583: MTI (4 ASCII digits), terminal id (8), STAN (6),
 * then opaque body. Keeps codec cost near zero, so the figures are the transport's.
 */
const codec: MessageCodec<Uint8Array> = {
  encode: (message) => message,
  decode: (frame) => frame,
  requestKey: (message) => latin1.decode(message.subarray(4, 18)) + latin1.decode(message.subarray(1, 2)),
  responseKey: (message) => latin1.decode(message.subarray(4, 18)) + latin1.decode(message.subarray(1, 2)),
  isResponse: (message) => (message[2]! & 1) === 1,
};

function makeRequest(stan: number): Uint8Array {
  const message = new Uint8Array(messageBytes).fill(0x20);
  message.set(new TextEncoder().encode(`0100TERM0001${String(stan % 1_000_000).padStart(6, '0')}`), 0);
  return message;
}

function echo(message: Uint8Array): Uint8Array {
  const response = message.slice();
  response[2] = 0x31; // 0100 -> 0110
  return response;
}

async function serve(): Promise<void> {
  const server = await createTcpTransport({ codec }).listen({ handler: echo, maxHandlersInFlight: 256 });
  process.send?.({ port: server.endpoint.port });
  process.on('message', async () => {
    await server.close();
    process.exit(0);
  });
}

async function startServer(
  inProcess: boolean,
): Promise<{ endpoint: TcpEndpoint; stop: () => Promise<void> }> {
  if (inProcess) {
    const server = await createTcpTransport({ codec }).listen({ handler: echo, maxHandlersInFlight: 256 });
    return { endpoint: server.endpoint, stop: () => server.close() };
  }
  const child: ChildProcess = fork(import.meta.filename, ['--serve'], { execArgv: process.execArgv });
  const port = await new Promise<number>((resolve) =>
    child.once('message', (m) => resolve((m as { port: number }).port)),
  );
  return {
    endpoint: { host: '127.0.0.1', port },
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.send('stop');
      }),
  };
}

interface Figures {
  inFlight: number;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

async function measure(
  endpoint: TcpEndpoint,
  inFlight: number,
  requests: number,
  stanBase: number,
): Promise<Figures> {
  const client = createTcpTransport({ codec }).connect(endpoint, { maxInFlight: 1024 });
  await client.connected();
  const latencies = new Float64Array(requests);
  let next = 0;
  const worker = async () => {
    while (next < requests) {
      const i = next++;
      const started = performance.now();
      await client.request(makeRequest(stanBase + i), { timeoutMs: 10_000 });
      latencies[i] = performance.now() - started;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsedMs = performance.now() - started;
  await client.close();
  latencies.sort();
  const at = (q: number) => latencies[Math.min(requests - 1, Math.floor(q * requests))]!;
  return {
    inFlight,
    requests,
    requestsPerSecond: Math.round((requests / elapsedMs) * 1000),
    p50Ms: Number(at(0.5).toFixed(3)),
    p99Ms: Number(at(0.99).toFixed(3)),
  };
}

async function main(): Promise<void> {
  const inProcess = process.argv.includes('--in-process');
  const { endpoint, stop } = await startServer(inProcess);
  await measure(endpoint, 16, 5_000, 900_000); // warm-up
  const results = [await measure(endpoint, 1, 10_000, 0), await measure(endpoint, 64, 100_000, 10_000)];
  await stop();
  const mode = inProcess ? 'server in this process' : 'server in a child process';
  console.log(`transport loopback TCP, ${messageBytes}-byte messages, echo handler, ${mode}`);
  console.log('in flight | requests |    req/s | p50 ms | p99 ms');
  for (const r of results) {
    console.log(
      `${String(r.inFlight).padStart(9)} | ${String(r.requests).padStart(8)} | ${String(r.requestsPerSecond).padStart(8)} | ${r.p50Ms.toFixed(3).padStart(6)} | ${r.p99Ms.toFixed(3).padStart(6)}`,
    );
  }
  console.log(
    JSON.stringify({
      bench: 'transport',
      mode: inProcess ? 'in-process' : 'child-process',
      messageBytes,
      results,
    }),
  );
}

if (process.argv.includes('--serve')) await serve();
else await main();
