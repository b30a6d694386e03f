import { createServer, type Server, type Socket } from 'node:net';
import { fromHex, toHex } from '@amulet/bytes';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connectVpcd,
  encodeVpcdFrame,
  loadSandboxCards,
  runConformance,
  type SeTransport,
  VPCD_ATR,
  VpcdControl,
  VpcdFrameReader,
} from '../src/index.ts';
import { rig } from './fixtures.ts';

/**
 * The reader's side of the vpcd protocol, as pcscd's vpcd driver speaks it: it listens, the
 * virtual card connects, and it sends control codes and APDUs as length-prefixed messages.
 */
async function vpcdReader(): Promise<{ port: number; card: Promise<Socket>; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const card = new Promise<Socket>((resolve) => server.once('connection', resolve));
  return { port: (server.address() as { port: number }).port, card, server };
}

function readerTransport(
  socket: Socket,
): SeTransport & { control(code: number): Promise<Uint8Array | undefined> } {
  const reader = new VpcdFrameReader();
  const waiting: ((frame: Uint8Array) => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    for (const frame of reader.push(new Uint8Array(chunk))) waiting.shift()?.(frame);
  });
  const exchange = (payload: Uint8Array) =>
    new Promise<Uint8Array>((resolve) => {
      waiting.push(resolve);
      socket.write(encodeVpcdFrame(payload));
    });
  return {
    transmit: exchange,
    control: async (code) => {
      if (code === VpcdControl.ATR) return exchange(Uint8Array.of(code));
      socket.write(encodeVpcdFrame(Uint8Array.of(code)));
      return undefined;
    },
  };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

async function connected() {
  const { se } = rig();
  loadSandboxCards(se);
  const reader = await vpcdReader();
  servers.push(reader.server);
  const card = await connectVpcd(
    { transmit: (a) => se.transmit(a), reset: () => se.fieldReset() },
    { port: reader.port },
  );
  const socket = await reader.card;
  return { se, card, socket, transport: readerTransport(socket) };
}

describe('vpcd transport', () => {
  it('answers the ATR request, and passes the conformance suite over a real socket', async () => {
    const first = await connected();
    expect(toHex((await first.transport.control(VpcdControl.ATR)) ?? new Uint8Array(0))).toBe(
      toHex(VPCD_ATR),
    );
    await first.card.close();
    const cards: { close(): Promise<void> }[] = [];
    const outcomes = await runConformance(async () => {
      const c = await connected();
      cards.push(c.card);
      await c.transport.control(VpcdControl.POWER_ON);
      return c.transport;
    });
    for (const c of cards) await c.close();
    expect(outcomes.filter((o) => !o.passed)).toEqual([]);
  });

  it('a reset ends the selection: GPO then answers 6985', async () => {
    const { card, transport } = await connected();
    await transport.control(VpcdControl.POWER_ON);
    expect(toHex((await transport.transmit(fromHex('00A4040007A000000003101000'))).subarray(-2))).toBe(
      '9000',
    );
    await transport.control(VpcdControl.RESET);
    expect(toHex(await transport.transmit(fromHex('80A8000002830000')))).toBe('6985');
    await card.close();
  });

  it('refuses an unreachable vpcd', async () => {
    const reader = await vpcdReader();
    await new Promise((resolve) => reader.server.close(resolve));
    await expect(
      connectVpcd({ transmit: () => fromHex('9000') }, { port: reader.port }),
    ).rejects.toMatchObject({
      code: 'ERR_SE_TRANSPORT',
    });
  });

  it('property: frames round-trip through any split of the stream', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 10 }),
        (payloads, cuts) => {
          const stream = Uint8Array.from(payloads.flatMap((p) => [...encodeVpcdFrame(p)]));
          const reader = new VpcdFrameReader();
          const out: Uint8Array[] = [];
          let offset = 0;
          for (let i = 0; offset < stream.length; i++) {
            const size = cuts[i % cuts.length] ?? 1;
            out.push(...reader.push(stream.subarray(offset, offset + size)));
            offset += size;
          }
          expect(out.map(toHex)).toEqual(payloads.map(toHex));
        },
      ),
    );
  });
});
