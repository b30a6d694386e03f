import { fromHex } from '@amulet/bytes';
import { decodeTokenData, Field, interchangeSpec } from '@amulet/contracts';
import { createMessage, type FieldValue, type Iso8583Message } from '@amulet/iso8583';
import { findClearPans } from '@amulet/store';
import { createMemoryTransport } from '@amulet/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { interchangeCodec, MessageLog, maskedFields, NetworkSwitch, RoutingTable } from '../src/index.ts';
import { SandboxIssuer, SandboxTokenService } from '../src/sandbox/index.ts';

const REAL_PAN = '4012000000000016';
const PLAIN_PAN = '4012000000000024';
const DPAN = '4761739001010010';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A switch with a sandbox token service and issuer behind in-memory transports. */
async function setup(options: { standIn?: boolean } = {}) {
  const t = createMemoryTransport<Iso8583Message>({ codec: interchangeCodec });
  const tsp = new SandboxTokenService([
    {
      dpan: DPAN,
      realPan: REAL_PAN,
      realExpiry: '3105',
      cvn: 18,
      psn: '01',
      imk: fromHex('0123456789ABCDEFFEDCBA9876543210'),
      tokenReference: 'TREF0001',
      par: 'Q1J4AWSCC2PAR0000000000000001',
      requestorId: '40010030273',
      deviceId: 'DEV1',
      status: 'active',
    },
  ]);
  const issuer = new SandboxIssuer();
  issuer.open(REAL_PAN, 10_000);
  issuer.open(PLAIN_PAN, 10_000);
  const servers = [
    await t.listen({ handler: tsp.handle }, { name: 'tsp' }),
    await t.listen({ handler: issuer.handle }, { name: 'issuer' }),
  ];
  const clients = [t.connect({ name: 'tsp' }), t.connect({ name: 'issuer' })];
  await Promise.all(clients.map((c) => c.connected()));
  const log = new MessageLog();
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
    advice: { intervalMs: 30 },
    ...(options.standIn
      ? { standIn: { limits: [{ bin: '401200', maxAmount: 1000, maxCardAmount: 1500 }] } }
      : {}),
  });
  closers.push(async () => {
    network.close();
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(servers.map((s) => s.close()));
  });
  // Messages go through the codec as on the wire, so the switch sees what it would over TCP.
  const send = async (message: Iso8583Message) => {
    const answer = await network.handle(interchangeCodec.decode(interchangeCodec.encode(message)));
    return answer === undefined ? undefined : interchangeCodec.decode(interchangeCodec.encode(answer));
  };
  return { network, tsp, issuer, log, send };
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
    expect(s.tsp.validations).toBe(0);
    expect(s.issuer.available(PLAIN_PAN)).toBe(9_500);
  });

  it('a token refused by the token service (no field 55) is answered with its field 39, issuer untouched', async () => {
    const s = await setup();
    const answer = await s.send(request(DPAN, '000002'));
    expect(text(answer, Field.responseCode)).toBe('82');
    expect(decodeTokenData(text(answer, Field.additionalDataPrivate)).get('04')).toBe('ICC_DATA_MISSING');
    expect(text(answer, Field.pan)).toBe(DPAN);
    expect(s.issuer.received).toEqual([]);
  });

  it('no route: 14; a repeat of an authorization gets the first answer, one effect', async () => {
    const s = await setup();
    expect(text(await s.send(request('5555555555554444', '000003')), Field.responseCode)).toBe('14');
    const first = await s.send(request(PLAIN_PAN, '000004'));
    const repeat = await s.send(request(PLAIN_PAN, '000004', 500, '0101'));
    expect(text(repeat, Field.authorizationIdResponse)).toBe(text(first, Field.authorizationIdResponse));
    expect(s.issuer.effects.holds).toBe(1);
    expect(s.issuer.available(PLAIN_PAN)).toBe(9_500);
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
    expect(s.issuer.effects.releases).toBe(1);
    expect(s.issuer.received.filter((m) => m.startsWith('04'))).toEqual(['0420']);
    expect(s.issuer.available(PLAIN_PAN)).toBe(10_000);
  });

  it('a reversal for an authorization never seen is acknowledged, and the late original is refused', async () => {
    const s = await setup();
    const reversal = request(PLAIN_PAN, '000006', 700, '0420', [
      [Field.originalDataElements, `0100000006120309300000000123456${'0'.repeat(11)}`],
    ]);
    expect(text(await s.send(reversal), Field.responseCode)).toBe('00');
    expect(text(await s.send(request(PLAIN_PAN, '000006', 700)), Field.responseCode)).toBe('94');
    expect(s.issuer.received).toEqual([]);
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
    expect(s.issuer.effects.advicesPosted).toBe(1);
    expect(s.issuer.available(PLAIN_PAN)).toBe(9_100);
    // The declined one was reversed at the issuer, which never held it: acknowledged, nothing released.
    expect(s.issuer.received).toContain('0420');
    expect(s.issuer.effects.releases).toBe(0);
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
