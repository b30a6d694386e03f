import { describe, expect, it } from 'vitest';
import {
  createMemoryTransport,
  deliverAdvice,
  ManualClock,
  type MessageHandler,
  sendUntilAcknowledged,
  TransportError,
} from '../src/index.ts';
import { answer, type TestMessage, testCodec } from './test-codec.ts';

const advice: TestMessage = { mti: '0420', stan: '000042', terminal: 'T0000001' };
const toRepeat = (m: TestMessage): TestMessage => ({ ...m, mti: '0421' });

async function setup(handler: MessageHandler<TestMessage>, whenDisconnected: 'fail' | 'wait' = 'fail') {
  const clock = new ManualClock();
  const transport = createMemoryTransport({ codec: testCodec, clock });
  const server = await transport.listen({ clock, handler });
  const client = transport.connect(server.endpoint, { clock, whenDisconnected });
  await client.connected();
  const done = async () => {
    await client.close();
    await server.close();
  };
  return { clock, client, server, done };
}

describe('sendUntilAcknowledged', () => {
  it('repeats as the repeat form until a response arrives', async () => {
    const seen: string[] = [];
    const { clock, client, done } = await setup((m) => {
      seen.push(m.mti);
      return seen.length < 3 ? undefined : answer(m);
    });
    const result = sendUntilAcknowledged(client, advice, {
      repeat: toRepeat,
      intervalMs: 100,
      maxAttempts: 5,
      clock,
    });
    await clock.advance(250);
    const { response, attempts } = await result;
    expect(seen).toEqual(['0420', '0421', '0421']);
    expect(attempts).toBe(3);
    expect(response.mti).toBe('0431');
    expect(client.metrics.timeouts).toBe(2);
    await done();
  });

  it('takes a late response to an earlier copy as the acknowledgement', async () => {
    let calls = 0;
    const { clock, client, done } = await setup(async (m) => {
      calls++;
      // The original is answered late (after 150 ms); the repeat never.
      if (calls === 1) {
        await new Promise((resolve) => clock.setTimeout(() => resolve(undefined), 150));
        return answer(m, 'LT');
      }
      return undefined;
    });
    const result = sendUntilAcknowledged(client, advice, {
      repeat: toRepeat,
      intervalMs: 100,
      maxAttempts: 5,
      clock,
    });
    await clock.advance(160);
    const { response, attempts } = await result;
    expect(attempts).toBe(2);
    expect(response.responseCode).toBe('LT');
    expect(calls).toBe(2);
    await done();
  });

  it('gives up with ERR_NOT_ACKNOWLEDGED after the last attempt, the last failure as cause', async () => {
    const { clock, client, done } = await setup(() => undefined);
    const result = sendUntilAcknowledged(client, advice, {
      repeat: toRepeat,
      intervalMs: 100,
      maxAttempts: 3,
      clock,
    }).catch((error: unknown) => error);
    await clock.advance(300);
    const error = (await result) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error.code).toBe('ERR_NOT_ACKNOWLEDGED');
    expect((error.cause as TransportError).code).toBe('ERR_TIMEOUT');
    await done();
  });

  it('throws at once what another attempt would not fix', async () => {
    const { clock, client, done } = await setup(() => undefined);
    const first = client.request(advice, { timeoutMs: 1000 }).catch(() => undefined);
    await expect(
      sendUntilAcknowledged(client, advice, { repeat: toRepeat, intervalMs: 100, maxAttempts: 3, clock }),
    ).rejects.toMatchObject({ code: 'ERR_DUPLICATE_KEY' });
    await expect(
      sendUntilAcknowledged(client, advice, { repeat: toRepeat, intervalMs: 0, maxAttempts: 3, clock }),
    ).rejects.toMatchObject({ code: 'ERR_OPTIONS' });
    await done();
    await first;
  });

  it('a round after one that gave up: plain, refused by the key reserved for a late answer; alreadySent, repeats only, through it', async () => {
    const seen: string[] = [];
    let answering = false;
    const { clock, client, done } = await setup((m) => {
      seen.push(m.mti);
      return answering ? answer(m) : undefined;
    });
    const options = { repeat: toRepeat, intervalMs: 100, maxAttempts: 2, clock };
    const first = sendUntilAcknowledged(client, advice, options).catch((error: unknown) => error);
    await clock.advance(250);
    expect(await first).toMatchObject({ code: 'ERR_NOT_ACKNOWLEDGED' });
    answering = true;
    await expect(sendUntilAcknowledged(client, advice, options)).rejects.toMatchObject({
      code: 'ERR_DUPLICATE_KEY',
    });
    const again = await sendUntilAcknowledged(client, advice, { ...options, alreadySent: true });
    expect(again.attempts).toBe(1);
    expect(seen).toEqual(['0420', '0421', '0421']);
    await done();
  });

  it('waits and tries again while the client is disconnected', async () => {
    const { clock, client, server, done } = await setup((m) => answer(m));
    await server.close();
    const result = sendUntilAcknowledged(client, advice, {
      repeat: toRepeat,
      intervalMs: 100,
      maxAttempts: 3,
      clock,
    }).catch((error: unknown) => error);
    await clock.advance(250);
    expect(await result).toMatchObject({
      code: 'ERR_NOT_ACKNOWLEDGED',
      cause: { code: 'ERR_NOT_CONNECTED' },
    });
    await done();
  });
});

describe('deliverAdvice', () => {
  const options = (clock: ManualClock) => ({ repeat: toRepeat, intervalMs: 100, maxAttempts: 2, clock });

  it('after a round refused by the key still reserved, waits and sends repeats only until answered', async () => {
    const seen: string[] = [];
    let answering = false;
    const { clock, client, done } = await setup((m) => {
      seen.push(m.mti);
      return answering ? answer(m) : undefined;
    });
    const first = sendUntilAcknowledged(client, advice, options(clock)).catch((error: unknown) => error);
    await clock.advance(250);
    expect(await first).toMatchObject({ code: 'ERR_NOT_ACKNOWLEDGED' });
    answering = true;
    const rounds: boolean[] = [];
    const delivery = deliverAdvice(client, advice, {
      ...options(clock),
      stopped: () => false,
      beforeRound: (repeatsOnly) => rounds.push(repeatsOnly),
    });
    await clock.advance(150);
    const acknowledged = await delivery;
    expect(acknowledged?.response.mti).toBe('0431');
    // The plain round was refused before it left (ERR_DUPLICATE_KEY); the next sent the repeat.
    expect(rounds).toEqual([false, true]);
    expect(seen).toEqual(['0420', '0421', '0421']);
    await done();
  });

  it('ends without an answer when a round uses every attempt', async () => {
    const seen: string[] = [];
    const { clock, client, done } = await setup((m) => {
      seen.push(m.mti);
      return undefined;
    });
    const delivery = deliverAdvice(client, advice, { ...options(clock), stopped: () => false });
    await clock.advance(250);
    expect(await delivery).toBeUndefined();
    expect(seen).toEqual(['0420', '0421']);
    await done();
  });

  it('sends nothing once stopped, and ends when the client is closed or the options are refused', async () => {
    const seen: string[] = [];
    const { clock, client, done } = await setup((m) => {
      seen.push(m.mti);
      return answer(m);
    });
    expect(await deliverAdvice(client, advice, { ...options(clock), stopped: () => true })).toBeUndefined();
    expect(
      await deliverAdvice(client, advice, { ...options(clock), maxAttempts: 0, stopped: () => false }),
    ).toBeUndefined();
    expect(seen).toEqual([]);
    await client.close();
    expect(await deliverAdvice(client, advice, { ...options(clock), stopped: () => false })).toBeUndefined();
    expect(seen).toEqual([]);
    await done();
  });

  it('an answered first round resolves with it, the original form sent', async () => {
    const seen: string[] = [];
    const { clock, client, done } = await setup((m) => {
      seen.push(m.mti);
      return answer(m);
    });
    const acknowledged = await deliverAdvice(client, advice, { ...options(clock), stopped: () => false });
    expect(acknowledged).toMatchObject({ attempts: 1, response: { mti: '0430' } });
    expect(seen).toEqual(['0420']);
    await done();
  });
});
