import { describe, expect, it } from 'vitest';
import { createMemoryTransport, type Faults, ManualClock, seededRandom } from '../src/index.ts';
import { answer, outcome, request, testCodec } from './test-codec.ts';

const faults: Faults = {
  delay: { kind: 'uniform', minMs: 1, maxMs: 40 },
  lossRate: 0.15,
  duplicateRate: 0.2,
  reorderRate: 0.2,
  reorderDelayMs: 25,
};

/** 200 requests over a faulty memory link, driven by a manual clock; returns each request's fate. */
async function run(seed: number) {
  const clock = new ManualClock();
  const transport = createMemoryTransport({
    codec: testCodec,
    clock,
    seed,
    toServer: faults,
    toClient: faults,
  });
  const server = await transport.listen({ clock, handler: (m) => answer(m, `R${m.stan.slice(-3)}`) });
  const client = transport.connect(server.endpoint, { clock, maxInFlight: 1000 });
  await client.connected();
  const fates: string[] = [];
  const all = Array.from({ length: 200 }, async (_, i) => {
    const sent = request(i + 1);
    try {
      const response = await client.request(sent, { timeoutMs: 100 });
      // Exactly its own response: same key, the answer the handler gave to this request.
      expect(testCodec.responseKey(response)).toBe(testCodec.requestKey(sent));
      expect(response.responseCode).toBe(`R${sent.stan.slice(-3)}`);
      fates[i] = 'ok';
    } catch (error) {
      expect((error as { code?: string }).code).toBe('ERR_TIMEOUT');
      fates[i] = 'timeout';
    }
  });
  await clock.advance(1000);
  await Promise.all(all);
  const metrics = { client: { ...client.metrics }, server: { ...server.metrics } };
  await client.close();
  await server.close();
  return { fates, metrics };
}

describe('memory transport with seeded faults', () => {
  it('gives every request exactly its own response or a timeout, and the faults really happen', async () => {
    const { fates, metrics } = await run(42);
    expect(fates.filter((f) => f === 'ok').length).toBeGreaterThan(100);
    expect(fates.filter((f) => f === 'timeout').length).toBeGreaterThan(10);
    expect(fates.filter((f) => f !== 'ok' && f !== 'timeout')).toEqual([]);
    // Duplicated requests are answered twice; the second answer finds nothing waiting.
    expect(metrics.server.framesIn).toBeGreaterThan(200 * 0.85);
    expect(metrics.client.unmatchedResponses).toBeGreaterThan(0);
    expect(metrics.client.responsesMatched + metrics.client.timeouts).toBe(200);
  });

  it('replays the same outcomes from the same seed, and others from another', async () => {
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(b.fates).toEqual(a.fates);
    expect(b.metrics).toEqual(a.metrics);
    expect(c.fates).not.toEqual(a.fates);
  });

  it('delivers in order with no faults', async () => {
    const transport = createMemoryTransport({ codec: testCodec });
    const seen: string[] = [];
    const server = await transport.listen({
      handler: (m) => {
        seen.push(m.stan);
        return answer(m);
      },
    });
    const client = transport.connect(server.endpoint);
    await client.connected();
    await Promise.all(Array.from({ length: 50 }, (_, i) => client.request(request(i + 1))));
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => request(i + 1).stan));
    await client.close();
    await server.close();
  });

  it('loses everything at a loss rate of 1, so every request times out', async () => {
    const clock = new ManualClock();
    const transport = createMemoryTransport({ codec: testCodec, clock, toServer: { lossRate: 1 } });
    const server = await transport.listen({ handler: (m) => answer(m) });
    const client = transport.connect(server.endpoint, { clock });
    await client.connected();
    const result = outcome(client.request(request(1), { timeoutMs: 50 }));
    await clock.advance(50);
    expect(await result).toBe('ERR_TIMEOUT');
    expect(server.metrics.framesIn).toBe(0);
    await client.close();
    await server.close();
    expect(clock.pendingTimers).toBe(0);
  });

  it('refuses fault settings out of bounds', () => {
    const bad: Faults[] = [
      { lossRate: 1.5 },
      { duplicateRate: -0.1 },
      { delay: { kind: 'uniform', minMs: 10, maxMs: 5 } },
      { delay: { kind: 'fixed', ms: 120_000 } },
      { delay: { kind: 'exponential', meanMs: 5, maxMs: Number.NaN } },
    ];
    for (const toServer of bad) {
      expect(() => createMemoryTransport({ codec: testCodec, toServer })).toThrow(
        expect.objectContaining({ code: 'ERR_OPTIONS' }),
      );
    }
  });

  it('seededRandom is deterministic and uniform enough', () => {
    const a = seededRandom(123);
    const b = seededRandom(123);
    const draws = Array.from({ length: 10_000 }, () => a());
    expect(draws.slice(0, 100)).toEqual(Array.from({ length: 100 }, () => b()));
    expect(draws.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
  });
});
