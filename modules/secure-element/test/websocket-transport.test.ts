import { fromHex, toHex } from '@amulet/bytes';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  loadSandboxCards,
  runConformance,
  type WebSocketSeServer,
  webSocketSeServer,
  webSocketTransport,
} from '../src/index.ts';
import { rig } from './fixtures.ts';

const servers: WebSocketSeServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function served() {
  const { se } = rig();
  loadSandboxCards(se);
  const server = await webSocketSeServer((apdu) => se.transmit(apdu));
  servers.push(server);
  return server;
}

describe('WebSocket transport', () => {
  it('passes the transport conformance suite over a real socket', async () => {
    const outcomes = await runConformance(async () => webSocketTransport((await served()).url));
    expect(outcomes.length).toBeGreaterThanOrEqual(7);
    expect(outcomes.filter((o) => !o.passed)).toEqual([]);
  });

  it('answers overlapping transmits in order', async () => {
    const transport = await webSocketTransport((await served()).url);
    const ppse = fromHex('00A404000E325041592E5359532E444446303100');
    const [a, b, c] = await Promise.all([
      transport.transmit(ppse),
      transport.transmit(fromHex('00A4040005A00000009900')),
      transport.transmit(fromHex('0012')),
    ]);
    expect(toHex(a ?? new Uint8Array(0)).slice(-4)).toBe('9000');
    expect(toHex(b ?? new Uint8Array(0))).toBe('6A82');
    expect(toHex(c ?? new Uint8Array(0))).toBe('6700');
    await transport.close?.();
  });

  it('serves one reader at a time, refuses text, and fails pending calls when the server goes', async () => {
    const server = await served();
    const first = await webSocketTransport(server.url);
    const second = new WebSocket(server.url);
    const code = await new Promise<number>((resolve) => second.on('close', (c) => resolve(c)));
    expect(code).toBe(1013);
    await first.close?.();
    const text = new WebSocket(server.url);
    await new Promise((resolve) => text.on('open', resolve));
    text.send('00A40400');
    expect(await new Promise<number>((resolve) => text.on('close', (c) => resolve(c)))).toBe(1003);
    const third = await webSocketTransport(server.url);
    await server.close();
    await expect(third.transmit(fromHex('00A4040000'))).rejects.toMatchObject({ code: 'ERR_SE_TRANSPORT' });
  });

  it('times out when nothing answers, and refuses an unreachable SE', async () => {
    const { WebSocketServer } = await import('ws');
    const silent = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => silent.once('listening', resolve));
    const port = (silent.address() as { port: number }).port;
    const transport = await webSocketTransport(`ws://127.0.0.1:${port}`, { timeoutMs: 50 });
    await expect(transport.transmit(fromHex('00A4040000'))).rejects.toThrow(/did not answer in time/);
    await new Promise((resolve) => silent.close(resolve));
    await expect(webSocketTransport(`ws://127.0.0.1:${port}`)).rejects.toThrow(/cannot connect/);
  });
});
