import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex } from '@amulet/bytes';
import { decodeTokenData, encodeTokenData, Field, interchangeSpec, responseTo } from '@amulet/contracts';
import { createMessage, type FieldValue, type Iso8583Message } from '@amulet/iso8583';
import { findClearPans } from '@amulet/store';
import { createMemoryTransport } from '@amulet/transport';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AdviceStore,
  interchangeCodec,
  MessageLog,
  maskedFields,
  NetworkSwitch,
  RoutingTable,
} from '../src/index.ts';

const REAL_PAN = '4012000000000016';
const PLAIN_PAN = '4012000000000024';
const DPAN = '4761739001010010';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const echo = [2, 3, 4, 7, 11, 12, 13, 32, 37, 41, 42, 49, 90];

/**
 * The far ends of the switch's wires, scripted: the network may not import the token service or
 * the issuer (services talk only through protocols), so these answer by rote and record what
 * reached them. The real token service and issuer run behind this switch in apps/terminal's
 * end-to-end tests (whole-tap, invariant-4, invariant-6).
 */
class ScriptedPeer {
  readonly received: Iso8583Message[] = [];
  silent: (message: Iso8583Message) => boolean = () => false;
  constructor(private readonly answer: (message: Iso8583Message, n: number) => Iso8583Message | undefined) {}
  readonly handle = (message: Iso8583Message): Iso8583Message | undefined => {
    this.received.push(message);
    return this.silent(message) ? undefined : this.answer(message, this.received.length);
  };
  mtis(): string[] {
    return this.received.map((m) => m.mti);
  }
}

/**
 * A token service that knows one DPAN: approves it with the real PAN when field 55 is there, else
 * 82; locates a reversal's original (0400, 0420, 0421) or a kept advice's (0120, 0121) when field
 * 55 is there (its stand-in for "names an approval"), else 30.
 */
function tokenServicePeer(): ScriptedPeer {
  return new ScriptedPeer((m) => {
    if (m.mti !== '0100' && !/^(04[02]|012)/.test(m.mti)) return undefined;
    if (m.fields.get(Field.pan) !== DPAN) return responseTo(m, echo, { [Field.responseCode]: '14' });
    if (m.mti !== '0100')
      return responseTo(
        m,
        echo,
        m.fields.has(Field.iccData)
          ? { [Field.pan]: REAL_PAN, [Field.expiry]: '3105', [Field.responseCode]: '00' }
          : { [Field.responseCode]: '30' },
      );
    if (!m.fields.has(Field.iccData))
      return responseTo(m, echo, {
        [Field.responseCode]: '82',
        [Field.additionalDataPrivate]: encodeTokenData([['04', 'ICC_DATA_MISSING']]),
      });
    return responseTo(m, echo, {
      [Field.pan]: REAL_PAN,
      [Field.expiry]: '3105',
      [Field.responseCode]: '00',
      [Field.additionalDataPrivate]: encodeTokenData([['01', 'TREF0001']]),
    });
  });
}

/** An issuer that approves every 0100 with a new authorization id and acknowledges every advice. */
function issuerPeer(): ScriptedPeer {
  return new ScriptedPeer((m, n) =>
    m.mti === '0100'
      ? responseTo(m, echo, {
          [Field.responseCode]: '00',
          [Field.authorizationIdResponse]: String(n).padStart(6, '0'),
        })
      : responseTo(m, echo, { [Field.responseCode]: '00' }),
  );
}

/**
 * A switch with a scripted token service and issuer behind in-memory transports. `restart` stops
 * it as a process would stop (its connections closed, its memory gone) and starts a new one on
 * the same advice store, which recovers what the first left.
 */
async function setup(
  options: { standIn?: boolean; maxRoutes?: number; adviceStore?: AdviceStore; adviceAttempts?: number } = {},
) {
  const t = createMemoryTransport<Iso8583Message>({ codec: interchangeCodec });
  const tsp = tokenServicePeer();
  const issuer = issuerPeer();
  const servers = [
    await t.listen({ handler: tsp.handle }, { name: 'tsp' }),
    await t.listen({ handler: issuer.handle }, { name: 'issuer' }),
  ];
  const log = new MessageLog();
  const start = async () => {
    const clients = [t.connect({ name: 'tsp' }), t.connect({ name: 'issuer' })];
    await Promise.all(clients.map((c) => c.connected()));
    const network = new NetworkSwitch({
      routes: new RoutingTable([
        { low: '476173900', high: '476173909', kind: 'token', destination: 'tsp' },
        { low: '401200', high: '401299', kind: 'issuer', destination: 'issuer' },
      ]),
      peers: new Map([
        ['tsp', clients[0]!],
        ['issuer', clients[1]!],
      ]),
      log,
      issuerTimeoutMs: 50,
      tokenServiceTimeoutMs: 50,
      reversalTimeoutMs: 50,
      advice: {
        intervalMs: 30,
        ...(options.adviceAttempts === undefined ? {} : { maxAttempts: options.adviceAttempts }),
      },
      ...(options.standIn
        ? { standIn: { limits: [{ bin: '401200', maxAmount: 1000, maxCardAmount: 1500 }] } }
        : {}),
      ...(options.maxRoutes === undefined ? {} : { maxRoutes: options.maxRoutes }),
      ...(options.adviceStore === undefined ? {} : { adviceStore: options.adviceStore }),
    });
    const stop = async () => {
      network.close();
      await Promise.all(clients.map((c) => c.close()));
    };
    return { network, stop };
  };
  let current = await start();
  closers.push(async () => {
    await current.stop();
    await Promise.all(servers.map((s) => s.close()));
  });
  // Messages go through the codec as on the wire, so the switch sees what it would over TCP.
  const send = async (message: Iso8583Message) => {
    const answer = await current.network.handle(interchangeCodec.decode(interchangeCodec.encode(message)));
    return answer === undefined ? undefined : interchangeCodec.decode(interchangeCodec.encode(answer));
  };
  return {
    get network() {
      return current.network;
    },
    tsp,
    issuer,
    log,
    send,
    async restart(): Promise<number> {
      await current.stop();
      current = await start();
      return current.network.recover();
    },
  };
}

function request(pan: string, stan: string, amount = 500, mti = '0100', extra: [number, FieldValue][] = []) {
  return createMessage(
    interchangeSpec,
    mti,
    new Map<number, FieldValue>([
      [Field.pan, pan],
      [Field.processingCode, '000000'],
      [Field.amount, String(amount)],
      [Field.transmissionDateTime, '1203093000'],
      [Field.stan, stan],
      [Field.posEntryMode, '071'],
      [Field.acquiringInstitutionId, '123456'],
      [Field.terminalId, 'T0000001'],
      [Field.merchantId, 'MERCHANT000001 '],
      [Field.currencyCode, '978'],
      ...extra,
    ]),
  );
}

const text = (m: Iso8583Message | undefined, f: number) => (m?.fields.get(f) as string | undefined) ?? '';

describe('the network switch', () => {
  it('routes a plain PAN straight to its issuer', async () => {
    const s = await setup();
    const answer = await s.send(request(PLAIN_PAN, '000001'));
    expect(text(answer, Field.responseCode)).toBe('00');
    expect(text(answer, Field.pan)).toBe(PLAIN_PAN);
    expect(s.tsp.received).toEqual([]);
    expect(s.issuer.mtis()).toEqual(['0100']);
  });

  it('a token refused by the token service (no field 55) is answered with its field 39, issuer untouched', async () => {
    const s = await setup();
    const answer = await s.send(request(DPAN, '000002'));
    expect(text(answer, Field.responseCode)).toBe('82');
    expect(decodeTokenData(text(answer, Field.additionalDataPrivate)).get('04')).toBe('ICC_DATA_MISSING');
    expect(text(answer, Field.pan)).toBe(DPAN);
    expect(s.tsp.mtis()).toEqual(['0100']);
    expect(s.issuer.received).toEqual([]);
  });

  it('no route: 14; a repeat of an authorization gets the first answer, one effect', async () => {
    const s = await setup();
    expect(text(await s.send(request('5555555555554444', '000003')), Field.responseCode)).toBe('14');
    const first = await s.send(request(PLAIN_PAN, '000004'));
    const repeat = await s.send(request(PLAIN_PAN, '000004', 500, '0101'));
    expect(text(first, Field.authorizationIdResponse)).toMatch(/^[0-9]{6}$/);
    expect(text(repeat, Field.authorizationIdResponse)).toBe(text(first, Field.authorizationIdResponse));
    // One effect: the repeat never reached the issuer.
    expect(s.issuer.mtis()).toEqual(['0100']);
  });

  it('a repeat after the answer gets the whole answer again, token data and DPAN included', async () => {
    const s = await setup();
    const icc: [number, FieldValue] = [Field.iccData, [{ tag: '9F36', value: fromHex('0001') }]];
    const first = await s.send(request(DPAN, '000010', 500, '0100', [icc]));
    const repeat = await s.send(request(DPAN, '000010', 500, '0101', [icc]));
    expect(text(first, Field.responseCode)).toBe('00');
    expect(repeat?.mti).toBe(first?.mti);
    expect([...(repeat?.fields ?? [])]).toEqual([...(first?.fields ?? [])]);
    expect(text(repeat, Field.pan)).toBe(DPAN);
    expect(s.tsp.mtis()).toEqual(['0100']);
    expect(s.issuer.mtis()).toEqual(['0100']);
  });

  it('reversals follow the original to its issuer once; repeats are answered from memory', async () => {
    const s = await setup();
    await s.send(request(PLAIN_PAN, '000005', 700));
    const reversal = request(PLAIN_PAN, '000005', 700, '0420', [
      [Field.originalDataElements, `0100000005120309300000000123456${'0'.repeat(11)}`],
    ]);
    expect(text(await s.send(reversal), Field.responseCode)).toBe('00');
    const repeat = createMessage(interchangeSpec, '0421', new Map(reversal.fields));
    expect((await s.send(repeat))?.mti).toBe('0430');
    expect(s.issuer.mtis()).toEqual(['0100', '0420']);
    // The reversal reached the issuer with the real PAN and the original's data elements.
    expect(text(s.issuer.received[1], Field.pan)).toBe(PLAIN_PAN);
    expect(text(s.issuer.received[1], Field.originalDataElements)).toBe(
      `0100000005120309300000000123456${'0'.repeat(11)}`,
    );
  });

  it('a reversal for an authorization never seen goes to the issuer of its BIN, and the late original is refused', async () => {
    const s = await setup();
    const reversal = request(PLAIN_PAN, '000006', 700, '0420', [
      [Field.originalDataElements, `0100000006120309300000000123456${'0'.repeat(11)}`],
    ]);
    expect(text(await s.send(reversal), Field.responseCode)).toBe('00');
    expect(text(await s.send(request(PLAIN_PAN, '000006', 700)), Field.responseCode)).toBe('94');
    // The issuer may have approved an original this switch never saw (or forgot in a restart).
    expect(s.issuer.mtis()).toEqual(['0420']);
    expect(text(s.issuer.received[0], Field.pan)).toBe(PLAIN_PAN);
  });

  it("a token's reversal never seen, that the token service cannot place, is acknowledged without reaching the issuer, and its late original refused", async () => {
    const s = await setup();
    const reversal = request(DPAN, '000016', 700, '0420', [
      [Field.originalDataElements, `0100000016120309300000000123456${'0'.repeat(11)}`],
    ]);
    expect(text(await s.send(reversal), Field.responseCode)).toBe('00');
    const icc: [number, FieldValue] = [Field.iccData, [{ tag: '9F36', value: fromHex('0003') }]];
    expect(text(await s.send(request(DPAN, '000016', 700, '0100', [icc])), Field.responseCode)).toBe('94');
    expect(s.issuer.received).toEqual([]);
    // Asked (no chip data: refused), and the late original never forwarded.
    expect(s.tsp.mtis()).toEqual(['0420']);
  });

  it("a token's reversal with no route (a restart): the token service names the real PAN by its chip data and the reversal reaches the issuer with it", async () => {
    const s = await setup();
    const icc: [number, FieldValue] = [Field.iccData, [{ tag: '9F36', value: fromHex('0004') }]];
    const reversal = request(DPAN, '000017', 700, '0420', [
      [Field.originalDataElements, `0100000017120309300000000123456${'0'.repeat(11)}`],
      icc,
    ]);
    // The token service does not answer at first: nor does the switch, and the acquirer repeats.
    s.tsp.silent = () => true;
    expect(await s.send(reversal)).toBeUndefined();
    expect(s.issuer.received).toEqual([]);
    s.tsp.silent = () => false;
    const repeat = createMessage(interchangeSpec, '0421', new Map(reversal.fields));
    const answer = await s.send(repeat);
    expect(text(answer, Field.responseCode)).toBe('00');
    // The acquirer's answer echoes its own field 2, the DPAN; the issuer gets the real PAN.
    expect(text(answer, Field.pan)).toBe(DPAN);
    expect(answer?.fields.has(Field.expiry)).toBe(false);
    expect(s.tsp.mtis()).toEqual(['0420', '0421']);
    expect(s.issuer.mtis()).toEqual(['0421']);
    const reached = s.issuer.received[0]!;
    expect([text(reached, Field.pan), text(reached, Field.expiry)]).toEqual([REAL_PAN, '3105']);
    expect(text(reached, Field.originalDataElements)).toBe(text(reversal, Field.originalDataElements));
    // The real PAN crossed the switch; its log shows it masked only.
    const logged = s.log.text();
    expect(logged).not.toContain(REAL_PAN);
    expect(logged).toContain('401200******0016');
    // Out twice (the first unanswered), in once.
    expect(
      s.log
        .entries()
        .filter((e) => e.peer === 'tsp')
        .map((e) => `${e.direction} ${e.mti}`),
    ).toEqual(['out 0420', 'out 0421', 'in 0430']);
  });

  it('a reversal whose route was dropped for room still reaches the issuer; a token one without the DPAN', async () => {
    const s = await setup({ maxRoutes: 1 });
    const icc: [number, FieldValue] = [Field.iccData, [{ tag: '9F36', value: fromHex('0002') }]];
    expect(text(await s.send(request(PLAIN_PAN, '000021', 700)), Field.responseCode)).toBe('00');
    expect(text(await s.send(request(DPAN, '000022', 800, '0100', [icc])), Field.responseCode)).toBe('00');
    // Two newer authorizations push both routes out (at most one is kept whole).
    await s.send(request(PLAIN_PAN, '000023', 100));
    await s.send(request(PLAIN_PAN, '000024', 100));
    const reversalOf = (pan: string, stan: string, amount: number) =>
      request(pan, stan, amount, '0420', [
        [Field.originalDataElements, `0100${stan}120309300000000123456${'0'.repeat(11)}`],
      ]);
    const plain = await s.send(reversalOf(PLAIN_PAN, '000021', 700));
    const token = await s.send(reversalOf(DPAN, '000022', 800));
    expect(text(plain, Field.responseCode)).toBe('00');
    expect(text(token, Field.responseCode)).toBe('00');
    // The acquirer's answer echoes its own field 2: the DPAN for the token.
    expect(text(token, Field.pan)).toBe(DPAN);
    const reversals = s.issuer.received.filter((m) => m.mti === '0420');
    expect(reversals.map((m) => text(m, Field.originalDataElements).slice(4, 10))).toEqual([
      '000021',
      '000022',
    ]);
    expect(text(reversals[0], Field.pan)).toBe(PLAIN_PAN);
    expect(reversals[1]?.fields.has(Field.pan)).toBe(false);
    expect(reversals[1]?.fields.has(Field.expiry)).toBe(false);
    // The token service saw the token's 0100 only; no reversal goes to it.
    expect(s.tsp.mtis()).toEqual(['0100']);
    // A repeat goes to the issuer again (the issuer releases a hold once).
    const repeat = createMessage(
      interchangeSpec,
      '0421',
      new Map(reversalOf(PLAIN_PAN, '000021', 700).fields),
    );
    expect(text(await s.send(repeat), Field.responseCode)).toBe('00');
    expect(s.issuer.mtis().filter((m) => m === '0421')).toHaveLength(1);
    // A token's reversal never seen is only acknowledged, and its late original refused.
    expect(text(await s.send(reversalOf(DPAN, '000029', 100)), Field.responseCode)).toBe('00');
    expect(s.issuer.received.filter((m) => text(m, Field.stan) === '000029')).toEqual([]);
    expect(text(await s.send(request(DPAN, '000029', 100, '0100', [icc])), Field.responseCode)).toBe('94');
  });

  it('stand-in: approves within limits while the issuer is silent, advises it, and reverses what it declined', async () => {
    const s = await setup({ standIn: true });
    s.issuer.silent = (m) => m.mti === '0100';
    const approved = await s.send(request(PLAIN_PAN, '000007', 900));
    expect(text(approved, Field.responseCode)).toBe('00');
    expect(text(approved, Field.authorizationIdResponse)).toMatch(/^S[0-9]{5}$/);
    const overTotal = await s.send(request(PLAIN_PAN, '000008', 900));
    expect(text(overTotal, Field.responseCode)).toBe('91');
    await s.network.settled();
    // The approval is advised (0120, the stand-in code in 38); the declined one is reversed (0420)
    // in case the issuer approved it unheard.
    const advices = s.issuer.received.filter((m) => m.mti === '0120');
    expect(advices).toHaveLength(1);
    expect(text(advices[0], Field.authorizationIdResponse)).toBe(
      text(approved, Field.authorizationIdResponse),
    );
    expect(Number(text(advices[0], Field.amount))).toBe(900);
    expect(s.issuer.received.filter((m) => m.mti === '0420').map((m) => text(m, Field.stan))).toEqual([
      '000008',
    ]);
  });

  it("stand-in advices and the switch's own reversals outlive a restart in the advice store, which never holds a real card number", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amulet-network-'));
    closers.push(async () => rmSync(dir, { recursive: true, force: true }));
    const store = await AdviceStore.open({ kind: 'sqlite', file: join(dir, 'network.db') });
    const s = await setup({ standIn: true, adviceStore: store });
    closers.push(() => store.close());
    // The issuer hears nothing (its answers lost) until the switch has restarted.
    s.issuer.silent = () => true;
    const icc: [number, FieldValue] = [Field.iccData, [{ tag: '9F36', value: fromHex('0009') }]];
    const token = await s.send(request(DPAN, '000031', 900, '0100', [icc]));
    expect(text(token, Field.responseCode)).toBe('00');
    expect(text(token, Field.authorizationIdResponse)).toMatch(/^S[0-9]{5}$/);
    // Over the single limit: 91, and the switch's 0420 in case the issuer approved unheard.
    expect(text(await s.send(request(PLAIN_PAN, '000032', 1200)), Field.responseCode)).toBe('91');
    // A card number's stand-in advice would keep its PAN: it is not written down.
    expect(text(await s.send(request(PLAIN_PAN, '000033', 500)), Field.responseCode)).toBe('00');
    const kept = await store.pending();
    expect(kept.map((k) => k.kind)).toEqual(['advice', 'reversal']);
    for (const file of readdirSync(dir)) {
      const bytes = readFileSync(join(dir, file)).toString('latin1');
      expect(bytes).not.toContain(REAL_PAN);
      expect(bytes).not.toContain(PLAIN_PAN);
    }

    s.issuer.silent = () => false;
    const before = s.issuer.received.length;
    expect(await s.restart()).toBe(2);
    await s.network.settled();
    const after = s.issuer.received.slice(before);
    expect(after.map((m) => m.mti).sort()).toEqual(['0121', '0421']);
    // The advice, its real PAN named again by the token service (asked with an 0121 by the DPAN).
    const advice = after.find((m) => m.mti === '0121')!;
    expect([text(advice, Field.pan), text(advice, Field.expiry)]).toEqual([REAL_PAN, '3105']);
    expect(text(advice, Field.authorizationIdResponse)).toBe(text(token, Field.authorizationIdResponse));
    expect(decodeTokenData(text(advice, Field.additionalDataPrivate)).get('20')).toBe('Y');
    expect(s.tsp.received.filter((m) => m.mti === '0121').map((m) => text(m, Field.pan))).toEqual([DPAN]);
    // The reversal, without a card number: the issuer finds its original by fields 90 and 41.
    const reversal = after.find((m) => m.mti === '0421')!;
    expect(reversal.fields.has(Field.pan)).toBe(false);
    expect(text(reversal, Field.originalDataElements).slice(0, 10)).toBe('0100000032');
    expect(await store.pending()).toEqual([]);
    // Nothing is sent twice by a later start.
    expect(await s.restart()).toBe(0);
  });

  it('a kept advice whose repeats ran out is sent again by recover, as repeats only, and left alone while in flight', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amulet-network-'));
    closers.push(async () => rmSync(dir, { recursive: true, force: true }));
    const store = await AdviceStore.open({ kind: 'sqlite', file: join(dir, 'network.db') });
    const s = await setup({ standIn: true, adviceStore: store, adviceAttempts: 2 });
    closers.push(() => store.close());
    s.issuer.silent = () => true;
    expect(text(await s.send(request(PLAIN_PAN, '000051', 1200)), Field.responseCode)).toBe('91');
    await s.network.settled(); // two attempts, both unanswered: given up, still kept
    expect((await store.pending()).map((k) => k.kind)).toEqual(['reversal']);
    expect(await s.network.recover()).toBe(1);
    expect(await s.network.recover()).toBe(0); // that one is being delivered
    await s.network.settled();
    s.issuer.silent = () => false;
    expect(await s.network.recover()).toBe(1);
    await s.network.settled();
    // The first copy was the 0420; every copy after it a repeat, the last one answered.
    const reversals = s.issuer.received.filter((m) => m.mti.startsWith('04'));
    expect(reversals.map((m) => m.mti)).toEqual(['0420', '0421', '0421', '0421', '0421']);
    expect(await store.pending()).toEqual([]);
  });

  it('a kept advice the token service will not place is dropped, and the issuer never hears it; an unreadable row is left alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amulet-network-'));
    closers.push(async () => rmSync(dir, { recursive: true, force: true }));
    const store = await AdviceStore.open({ kind: 'sqlite', file: join(dir, 'network.db') });
    closers.push(() => store.close());
    // Without chip data nothing names the approval: the token service answers 30.
    const advice = createMessage(interchangeSpec, '0120', new Map(request(DPAN, '000041', 300).fields));
    await store.add({
      id: 'advice:x',
      kind: 'advice',
      issuer: 'issuer',
      message: interchangeCodec.encode(advice),
    });
    // And a row that is no message at all: left for an operator, not counted, nothing sent.
    const junk = {
      id: 'advice:junk',
      kind: 'advice',
      issuer: 'issuer',
      message: Uint8Array.of(1, 2, 3),
    } as const;
    await store.add(junk);
    const s = await setup({ standIn: true, adviceStore: store });
    s.tsp.silent = () => s.tsp.received.length === 1; // and not at the first asking
    expect(await s.restart()).toBe(1);
    await s.network.settled();
    expect(s.tsp.mtis()).toEqual(['0121', '0121']);
    expect(s.issuer.received).toEqual([]);
    expect(await store.pending()).toEqual([junk]);
  });

  it('the log masks the PAN to first six and last four, elides the cryptogram, keeps no track data', () => {
    const log = new MessageLog();
    const lines: string[] = [];
    const sinkLog = new MessageLog({ sink: (line) => lines.push(line) });
    const message = request(REAL_PAN, '000009', 100, '0100', [
      [35, `${REAL_PAN}D31052010000000000`],
      [
        Field.iccData,
        [
          { tag: '9F26', value: fromHex('A2F94C46C50EB778') },
          { tag: '5A', value: fromHex(REAL_PAN) },
          { tag: '9F36', value: fromHex('0001') },
        ],
      ],
    ]);
    log.record(0, 'in', 'acquirer', message);
    sinkLog.record(0, 'in', 'acquirer', message);
    const textLog = log.text();
    expect(textLog).not.toContain(REAL_PAN);
    expect(textLog).toContain('401200******0016');
    expect(textLog).not.toContain('A2F94C46C50EB778');
    expect(textLog).toContain('[elided]');
    expect(textLog).toContain('"9F36":"0001"');
    expect(textLog).toContain('"5A":"401200******0016"');
    expect(maskedFields(message)['35']).toBeUndefined();
    expect(findClearPans(new TextEncoder().encode(textLog))).toEqual([]);
    expect(lines).toEqual([textLog]);
    // The control: the same scanner does find the PAN in an unmasked rendering.
    expect(
      findClearPans(
        new TextEncoder().encode(
          JSON.stringify([...message.fields.values()].filter((v) => typeof v === 'string')),
        ),
      ).length,
    ).toBeGreaterThan(0);
  });

  it('the log keeps its newest entries, oldest first, within its bound', () => {
    const log = new MessageLog({ maxEntries: 3 });
    for (let i = 1; i <= 5; i++)
      log.record(i, 'in', 'acquirer', request(PLAIN_PAN, String(i).padStart(6, '0')));
    expect(log.entries().map((e) => e.fields[String(Field.stan)])).toEqual(['000003', '000004', '000005']);
    expect(log.text().split('\n')).toHaveLength(3);
  });

  it('refuses an issuer memory that could hold nothing', () => {
    const routes = new RoutingTable([]);
    for (const issuerMemoryEntries of [0, -1, 1.5, Number.NaN])
      expect(() => new NetworkSwitch({ routes, peers: new Map(), issuerMemoryEntries })).toThrow(RangeError);
  });

  it('answers an 0800 echo test', async () => {
    const s = await setup();
    const answer = await s.send(
      createMessage(
        interchangeSpec,
        '0800',
        new Map<number, FieldValue>([
          [Field.stan, '000001'],
          [70, '301'],
        ]),
      ),
    );
    expect(answer?.mti).toBe('0810');
    expect(text(answer, Field.responseCode)).toBe('00');
  });
});
