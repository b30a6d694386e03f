import { Field, interchangeSpec, parseOriginalDataElements } from '@amulet/contracts';
import { createMessage, type FieldValue, type Iso8583Message } from '@amulet/iso8583';
import { interchangeCodec, responseTo } from '@amulet/network';
import { createTcpTransport } from '@amulet/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { answerOutcome, defaultKernelConfig, PosTerminal, runTap } from '../src/index.ts';
import { scriptedAcquirer } from './support/scripted-acquirer.ts';
import { seededBytes, wearable } from './support/wearable.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A terminal wired to a scripted acquirer over an in-memory ISO 8583 transport. */
async function setup(answer: (m: Iso8583Message) => Iso8583Message | undefined) {
  const { client, seen, close } = await scriptedAcquirer(answer);
  const terminal = new PosTerminal({
    identity: { terminalId: 'T0000001', merchantId: 'MERCHANT000001', merchantNameLocation: 'AMULET CAFE' },
    kernel: defaultKernelConfig,
    acquirer: client,
    now: () => new Date(Date.UTC(2026, 11, 3, 9, 30, 15)),
    random: seededBytes('pos'),
    firstStan: 41,
    responseTimeoutMs: 50,
    reversal: { intervalMs: 30 },
  });
  closers.push(async () => {
    terminal.close();
    await close();
  });
  return { terminal, seen };
}

const approve = (m: Iso8583Message) =>
  responseTo(m, [2, 3, 4, 7, 11, 12, 13, 37, 41, 42, 49], {
    [Field.responseCode]: '00',
    [Field.authorizationIdResponse]: 'ABC123',
  });

describe('the POS terminal', () => {
  it('sends the 0100 the issue asks for: fields 2-49 and field 55 with every data object', async () => {
    const { terminal, seen } = await setup(approve);
    const w = wearable(['sandbox-visa-cvn18']);
    const report = await terminal.tap(w.transport, 1234);
    expect(report.outcome).toMatchObject({
      status: 'approved',
      authorizationId: 'ABC123',
      message: 'Approved',
    });
    const m = seen[0]!;
    const text = (f: number) => m.fields.get(f) as string;
    expect(m.mti).toBe('0100');
    expect(text(2)).toBe('4761739001010010');
    expect(text(3)).toBe('000000');
    expect(text(4)).toBe('000000001234');
    expect(text(7)).toBe('1203093015');
    expect(text(11)).toBe('000041');
    expect(text(12)).toBe('093015');
    expect(text(13)).toBe('1203');
    expect(text(14)).toBe('3012');
    expect(text(22)).toBe('071');
    expect(text(23)).toBe('001');
    expect(text(37)).toBe('633709000041');
    expect(text(41)).toBe('T0000001');
    expect(text(42)).toBe('MERCHANT000001 ');
    expect(text(43).trim()).toBe('AMULET CAFE');
    expect(text(49)).toBe('978');
    const tags = (m.fields.get(55) as { tag: string }[]).map((n) => n.tag);
    for (const tag of [
      '9F26',
      '9F27',
      '9F10',
      '9F37',
      '9F36',
      '95',
      '9A',
      '9C',
      '9F02',
      '5F2A',
      '82',
      '9F1A',
      '9F03',
      '9F34',
      '9F33',
      '9F35',
      '84',
      '5F34',
      '9F66',
      '9F6C',
    ])
      expect(tags).toContain(tag);
  });

  it('no answer: declined at the terminal, then 0420 (0421 repeats) with field 90 until acknowledged', async () => {
    let ackAfter = 3;
    const { terminal, seen } = await setup((m) => {
      if (m.mti === '0100') return undefined;
      return --ackAfter <= 0
        ? responseTo(m, [2, 4, 7, 11, 41, 42], { [Field.responseCode]: '00' })
        : undefined;
    });
    const w = wearable(['sandbox-mastercard-cvn17']);
    const report = await terminal.tap(w.transport, 500);
    expect(report.outcome).toMatchObject({ status: 'declined', reason: 'no-response' });
    expect(terminal.pendingReversals).toBe(1);
    await terminal.settled();
    expect(seen.map((m) => m.mti)).toEqual(['0100', '0420', '0421', '0421']);
    const original = parseOriginalDataElements(seen[1]!.fields.get(90) as string);
    expect(original).toMatchObject({ mti: '0100', stan: '000041', transmissionDateTime: '1203093015' });
  });

  it('an ending at the terminal sends nothing', async () => {
    const { terminal, seen } = await setup(approve);
    const w = wearable(['sandbox-visa-cvn18']);
    expect((await terminal.tap(w.transport, 2_000_000)).outcome.status).toBe('try-another-interface');
    expect((await terminal.tap(w.transport, 6_000)).outcome.status).toBe('see-phone');
    expect(seen).toEqual([]);
  });

  it('reads the answer: approval, a decline with its meaning, additional authentication', () => {
    const answer = (code: string) =>
      createMessage(interchangeSpec, '0110', new Map<number, FieldValue>([[Field.responseCode, code]]));
    expect(answerOutcome(answer('00')).status).toBe('approved');
    expect(answerOutcome(answer('51'))).toMatchObject({
      status: 'declined',
      message: 'Declined: insufficient funds',
    });
    expect(answerOutcome(answer('62'))).toMatchObject({ status: 'declined', responseCode: '62' });
    expect(answerOutcome(answer('1A')).status).toBe('see-phone');
    expect(answerOutcome(createMessage(interchangeSpec, '0110')).status).toBe('declined');
  });
});

describe('runTap over TCP', () => {
  it('taps once against an acquirer listening on loopback TCP', async () => {
    const server = await createTcpTransport<Iso8583Message>({ codec: interchangeCodec }).listen({
      handler: approve,
    });
    closers.push(() => server.close());
    const w = wearable(['sandbox-mastercard-cvn17']);
    const report = await runTap({
      acquirer: server.endpoint,
      card: w.transport,
      amount: 1234,
      identity: { terminalId: 'T0000009', merchantId: 'MERCHANT000001', merchantNameLocation: 'AMULET CAFE' },
      stan: 7,
    });
    expect(report.outcome.status).toBe('approved');
    expect(report.request?.fields.get(Field.stan)).toBe('000007');
  });
});
