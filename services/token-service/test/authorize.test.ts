import {
  decodeTokenData,
  editMessage,
  Field,
  interchangeCodec,
  interchangeSpec,
  originalDataElements,
  TokenDataId,
} from '@amulet/contracts';
import { isLuhnValid } from '@amulet/emv';
import { createMessage, getText, type Iso8583Message } from '@amulet/iso8583';
import { coveredTerminalTags } from '@amulet/secure-element';
import { findClearPans } from '@amulet/store';
import type { TlvNode } from '@amulet/tlv';
import { createTcpTransport } from '@amulet/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iso8583Codec, startAuthorizationServer } from '../src/index.ts';
import { activeToken, OTHER_TRID, startTsp, type Tsp, tapRequest } from './harness.ts';

let next = 0;
const PANS: string[] = [];
function pan(bin = '476173'): string {
  next++;
  const body = `${bin}${String(500 + next).padStart(15 - bin.length, '0')}`;
  for (let d = 0; d < 10; d++)
    if (isLuhnValid(body + d)) {
      PANS.push(body + d);
      return body + d;
    }
  throw new Error('unreachable');
}

const code = (m: Iso8583Message): string | undefined => getText(m, Field.responseCode);
const reasons = (m: Iso8583Message): string[] =>
  (decodeTokenData(getText(m, Field.additionalDataPrivate) ?? '').get(TokenDataId.verdictReasons) ?? '')
    .split(',')
    .filter((r) => r.length > 0);

/** The acquirer's reversal advice of an 0100: the same fields, field 90 naming it. */
function reversalOf(request: Iso8583Message, mti = '0420'): Iso8583Message {
  return editMessage(
    request,
    {
      [Field.stan]: '999999',
      [Field.originalDataElements]: originalDataElements({
        mti: request.mti,
        stan: getText(request, Field.stan) ?? '',
        transmissionDateTime: getText(request, Field.transmissionDateTime) ?? '',
        acquiringInstitutionId: getText(request, Field.acquiringInstitutionId) ?? '',
      }),
    },
    mti,
  );
}

/** The same request with one field 55 data object replaced. */
function withIcc(
  request: Iso8583Message,
  tag: string,
  change: (value: Uint8Array) => Uint8Array,
): Iso8583Message {
  const nodes = (request.fields.get(Field.iccData) as TlvNode[]).map((n) =>
    n.tag === tag ? { tag, value: change(n.value ?? new Uint8Array(0)) } : n,
  );
  return createMessage(interchangeSpec, request.mti, new Map([...request.fields, [Field.iccData, nodes]]));
}

describe.each(['sqlite', 'postgres'] as const)('detokenization and validation on %s', (kind) => {
  let tsp: Tsp;
  beforeAll(async () => {
    tsp = await startTsp(kind, `authorize-${kind}`);
  });
  afterAll(async () => {
    // The vault after thousands of verdicts: still no clear PAN in the database, its WAL or SHM.
    const found = (await tsp.handle.dump()).flatMap((b) => findClearPans(b)).map((h) => h.digits);
    for (const p of PANS) expect(found).not.toContain(p);
    expect(PANS.length).toBeGreaterThan(5);
    await tsp.close();
  });

  it('approves a real tap over ISO 8583 on TCP: real PAN and expiry, PAR, requestor, device, last four, assurance', async () => {
    const card = pan();
    const { token, se, view } = await activeToken(tsp, card, 'SN-2001', '2911');
    const server = await startAuthorizationServer(tsp.authorizer);
    const client = createTcpTransport({ codec: interchangeCodec }).connect(server.endpoint);
    try {
      await client.connected();
      // One codec for the interchange: the token service's export is contracts' own.
      expect(iso8583Codec).toBe(interchangeCodec);
      const { request } = await tapRequest(se, token.tokenExpiry);
      const response = await client.request(request, { timeoutMs: 5000 });
      expect(response.mti).toBe('0110');
      expect(code(response)).toBe('00');
      expect(getText(response, Field.pan)).toBe(card);
      expect(getText(response, Field.expiry)).toBe('2911');
      const data = decodeTokenData(getText(response, Field.additionalDataPrivate) ?? '');
      expect(Object.fromEntries(data)).toEqual({
        '01': token.id,
        '02': view.par,
        '03': token.requestorTrid,
        '05': token.device.certificateFingerprint,
        '06': token.dpan.slice(-4),
        '07': '10',
      });
      expect(getText(response, Field.stan)).toBe(getText(request, Field.stan));
      // Anything but an 0100 is answered '12' (invalid transaction).
      const echo = createMessage(
        interchangeSpec,
        '0800',
        new Map([
          [Field.stan, '000777'],
          [Field.terminalId, 'TERM0001'],
        ]),
      );
      const answer = await client.request(echo, { timeoutMs: 5000 });
      expect([answer.mti, code(answer)]).toEqual(['0810', '12']);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('Mastercard CVN 17 taps verify too', async () => {
    const { token, se } = await activeToken(tsp, pan('541333'), 'SN-2002');
    const { request } = await tapRequest(se, token.tokenExpiry);
    expect(code(await tsp.authorizer.authorize(request))).toBe('00');
  });

  it('replay: the same request again, an older ATC after a newer one, and two racing copies: only one approval', async () => {
    const { token, se } = await activeToken(tsp, pan(), 'SN-2003');
    const first = (await tapRequest(se, token.tokenExpiry)).request;
    const second = (await tapRequest(se, token.tokenExpiry)).request;
    expect(code(await tsp.authorizer.authorize(second))).toBe('00');
    const reordered = await tsp.authorizer.authorize(first);
    expect([code(reordered), reasons(reordered)]).toEqual(['82', ['ATC_REPLAY']]);
    const again = await tsp.authorizer.authorize(second);
    expect([code(again), reasons(again)]).toEqual(['82', ['ATC_REPLAY']]);
    const third = (await tapRequest(se, token.tokenExpiry)).request;
    const racing = await Promise.all(Array.from({ length: 8 }, () => tsp.authorizer.authorize(third)));
    expect(racing.filter((r) => code(r) === '00')).toHaveLength(1);
    for (const r of racing.filter((r) => code(r) !== '00')) expect(code(r)).toBe('82');
  });

  it('any bit changed in the covered data fails the cryptogram (82) and consumes nothing', async () => {
    const { token, se } = await activeToken(tsp, pan(), 'SN-2004');
    const { request } = await tapRequest(se, token.tokenExpiry);
    const covered = [...coveredTerminalTags, '82', '9F10', '9F26'];
    let checked = 0;
    for (const tag of covered) {
      const length = (
        (request.fields.get(Field.iccData) as TlvNode[]).find((n) => n.tag === tag)?.value ?? []
      ).length;
      for (let bit = 0; bit < length * 8; bit += 5) {
        const changed = withIcc(request, tag, (v) => {
          const out = v.slice();
          out[bit >> 3]! ^= 1 << (bit & 7);
          return out;
        });
        const response = await tsp.authorizer.authorize(changed);
        expect([tag, bit, code(response)]).toEqual([tag, bit, '82']);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
    // The ATC is covered too: a lower one is a replay, a higher one a cryptogram failure.
    const higher = withIcc(request, '9F36', (v) => Uint8Array.of(v[0]!, v[1]! + 1));
    expect(reasons(await tsp.authorizer.authorize(higher))).toEqual(['CRYPTOGRAM_INVALID']);
    // Nothing was consumed: the untouched request still approves.
    expect(code(await tsp.authorizer.authorize(request))).toBe('00');
  });

  it('domain matrix: every combination outside the domain is declined with its reasons, the one inside approved', async () => {
    const { token, se } = await activeToken(tsp, pan(), 'SN-2005');
    const entryModes = ['071', '072', '051', '911', '012', '810'];
    const requestors = [undefined, token.requestorTrid, OTHER_TRID];
    const devices = [undefined, token.device.certificateFingerprint, 'f'.repeat(64)];
    let approved = 0;
    for (const posEntryMode of entryModes)
      for (const requestor of requestors)
        for (const device of devices) {
          const tokenData: [string, string][] = [];
          if (requestor !== undefined) tokenData.push([TokenDataId.tokenRequestorId, requestor]);
          if (device !== undefined) tokenData.push([TokenDataId.deviceId, device]);
          const { request } = await tapRequest(se, token.tokenExpiry, { posEntryMode, tokenData });
          const response = await tsp.authorizer.authorize(request);
          const expected: string[] = [];
          if (!posEntryMode.startsWith('07')) expected.push('DOMAIN_POS_ENTRY_MODE');
          if (requestor === OTHER_TRID) expected.push('DOMAIN_REQUESTOR');
          if (device === 'f'.repeat(64)) expected.push('DOMAIN_DEVICE');
          const label = `${posEntryMode}/${requestor ?? '-'}/${device?.slice(0, 4) ?? '-'}`;
          if (expected.length === 0) {
            approved++;
            expect([label, code(response)]).toEqual([label, '00']);
          } else {
            expect([label, code(response), reasons(response)]).toEqual([label, '57', expected]);
            expect(getText(response, Field.pan)).toBe(token.dpan);
          }
        }
    expect(approved).toBe(2 * 2 * 2);
  });

  it('status, expiry, amount and CVM: 62, 54, 13, 1A; unknown token 14; malformed 30', async () => {
    const { token, se } = await activeToken(tsp, pan(), 'SN-2006');
    const expiredField = (await tapRequest(se, token.tokenExpiry, { expiry: '2601' })).request;
    expect([code(await tsp.authorizer.authorize(expiredField))]).toEqual(['54']);
    const mismatch = (await tapRequest(se, token.tokenExpiry, { field4: '000000009999' })).request;
    expect(code(await tsp.authorizer.authorize(mismatch))).toBe('13');
    const big = (await tapRequest(se, token.tokenExpiry, { amount: 6000 })).request;
    const cvm = await tsp.authorizer.authorize(big);
    expect([code(cvm), reasons(cvm)]).toEqual(['1A', ['CVM_REQUIRED']]);
    se.wearer.enrollPin('4321');
    expect(se.wearer.verifyPin('4321').status).toBe('verified');
    const withPin = (await tapRequest(se, token.tokenExpiry, { amount: 6000 })).request;
    expect(code(await tsp.authorizer.authorize(withPin))).toBe('00');
    const unknown = createMessage(
      interchangeSpec,
      '0100',
      new Map([...withPin.fields, [Field.pan, '4895000000000000']]),
    );
    expect(code(await tsp.authorizer.authorize(unknown))).toBe('14');
    const malformed = createMessage(
      interchangeSpec,
      '0100',
      new Map([...withPin.fields, [Field.iccData, []]]),
    );
    expect(code(await tsp.authorizer.authorize(malformed))).toBe('30');
    await tsp.service.changeStatus({
      tokenIds: [token.id],
      action: 'suspend',
      actor: 'issuer',
      reason: 'fraud',
    });
    const afterSuspend = (await tapRequest(se, token.tokenExpiry)).request;
    expect(code(await tsp.authorizer.authorize(afterSuspend))).toBe('62');
  });

  it('the token expiry: a tap after it is declined 54', async () => {
    const { token, se } = await activeToken(tsp, pan(), 'SN-2007', '2702');
    expect(token.tokenExpiry).toBe('2702');
    const { request } = await tapRequest(se, token.tokenExpiry);
    const saved = tsp.world.now().getTime();
    tsp.world.advance(Date.parse('2027-03-02T00:00:00Z') - saved);
    try {
      expect(reasons(await tsp.authorizer.authorize(request))).toEqual(['TOKEN_EXPIRED']);
    } finally {
      tsp.world.advance(saved - tsp.world.now().getTime());
    }
  });

  it('an ATC jump above the window is approved but flagged', async () => {
    const { token, se } = await activeToken(tsp, pan(), 'SN-2008');
    expect(code(await tsp.authorizer.authorize((await tapRequest(se, token.tokenExpiry)).request))).toBe(
      '00',
    );
    for (let i = 0; i < 101; i++) await tapRequest(se, token.tokenExpiry);
    const jumped = await tsp.authorizer.authorize((await tapRequest(se, token.tokenExpiry)).request);
    expect([code(jumped), reasons(jumped)]).toEqual(['00', ['ATC_JUMP']]);
  });

  it('suspend racing a burst: nothing that began after the suspension committed is approved', async () => {
    const { token, se } = await activeToken(tsp, pan(), 'SN-2009');
    const requests: Iso8583Message[] = [];
    for (let i = 0; i < 40; i++) requests.push((await tapRequest(se, token.tokenExpiry)).request);
    const before = requests.slice(0, 20).map((r) => tsp.authorizer.authorize(r));
    const suspension = tsp.service.changeStatus({
      tokenIds: [token.id],
      action: 'suspend',
      actor: 'cardholder',
      reason: 'lost',
    });
    const during = requests.slice(20, 30).map((r) => tsp.authorizer.authorize(r));
    await suspension;
    const after = await Promise.all(requests.slice(30).map((r) => tsp.authorizer.authorize(r)));
    for (const r of after) expect(code(r)).toBe('62');
    const settled = await Promise.all([...before, ...during]);
    // Every approval was recorded at the status version before the suspension.
    const verdicts = await tsp.handle.store.atc.verdicts(token.id);
    const suspendedAt = (await tsp.handle.store.vault.getToken(token.id))?.statusVersion ?? 0;
    for (const v of verdicts.filter((v) => v.verdict === 'approved'))
      expect(v.statusVersion).toBeLessThan(suspendedAt);
    expect(settled.filter((r) => code(r) === '00').length).toBe(
      verdicts.filter((v) => v.verdict === 'approved').length,
    );
  });

  it('a reversal the network cannot route: the real PAN only for an original it approved, named by its chip data', async () => {
    const card = pan();
    const { token, se } = await activeToken(tsp, card, 'SN-2010', '2912');
    const approved = (await tapRequest(se, token.tokenExpiry)).request;
    expect(code(await tsp.authorizer.authorize(approved))).toBe('00');
    const declined = (await tapRequest(se, token.tokenExpiry, { field4: '000000009999' })).request;
    expect(code(await tsp.authorizer.authorize(declined))).toBe('13');
    const neverSent = (await tapRequest(se, token.tokenExpiry)).request;

    const server = await startAuthorizationServer(tsp.authorizer);
    const client = createTcpTransport({ codec: interchangeCodec }).connect(server.endpoint);
    try {
      await client.connected();
      for (const [mti, answerMti] of [
        ['0400', '0410'],
        ['0420', '0430'],
        ['0421', '0430'],
      ] as const) {
        const reversal = reversalOf(approved, mti);
        const located = await client.request(reversal, { timeoutMs: 5000, retransmission: true });
        expect(located.mti).toBe(answerMti);
        expect(code(located)).toBe('00');
        expect(getText(located, Field.pan)).toBe(card);
        expect(getText(located, Field.expiry)).toBe('2912');
        expect(getText(located, Field.originalDataElements)).toBe(
          getText(reversal, Field.originalDataElements),
        );
        expect(decodeTokenData(getText(located, Field.additionalDataPrivate) ?? '').get('01')).toBe(token.id);
      }
    } finally {
      await client.close();
      await server.close();
    }

    // Each PAN revealed this way is on the audit record, without card data.
    const located = (await tsp.handle.store.audit.list(0, 1_000_000)).filter(
      (e) => e.action === 'reversal.located' && e.subject === token.id,
    );
    expect(located).toHaveLength(3);
    expect(JSON.stringify(located)).not.toContain(card);

    // Refused, each with its reason, and never with the PAN anywhere in the answer.
    const refusals: [Iso8583Message, string, string][] = [
      [reversalOf(declined), '25', 'ORIGINAL_NOT_FOUND'],
      [reversalOf(neverSent), '25', 'ORIGINAL_NOT_FOUND'],
      [
        withIcc(reversalOf(approved), '9F26', (v) => v.map((b, i) => (i === 0 ? b ^ 1 : b))),
        '82',
        'CRYPTOGRAM_INVALID',
      ],
      [
        withIcc(reversalOf(approved), '9F36', (v) => Uint8Array.of(v[0]!, v[1]! + 1)),
        '82',
        'CRYPTOGRAM_INVALID',
      ],
      [editMessage(reversalOf(approved), { [Field.iccData]: undefined }), '30', 'FORMAT'],
      [editMessage(reversalOf(approved), { [Field.originalDataElements]: undefined }), '30', 'FORMAT'],
      [editMessage(reversalOf(approved), { [Field.pan]: '4895000000000000' }), '14', 'UNKNOWN_TOKEN'],
    ];
    for (const [reversal, expected, reason] of refusals) {
      const answer = await tsp.authorizer.locateOriginal(reversal);
      expect([answer.mti, code(answer), reasons(answer)]).toEqual(['0430', expected, [reason]]);
      expect(getText(answer, Field.expiry)).toBeUndefined();
      expect(findClearPans(interchangeCodec.encode(answer)).map((h) => h.digits)).not.toContain(card);
    }

    // An approval made before a suspension is still reversed; the ATC it names stays consumed.
    await tsp.service.changeStatus({
      tokenIds: [token.id],
      action: 'suspend',
      actor: 'issuer',
      reason: 'fraud',
    });
    expect(getText(await tsp.authorizer.locateOriginal(reversalOf(approved)), Field.pan)).toBe(card);
    await tsp.service.changeStatus({
      tokenIds: [token.id],
      action: 'resume',
      actor: 'issuer',
      reason: 'cleared',
    });
    expect(code(await tsp.authorizer.authorize(approved))).toBe('82');
  });

  it('a stand-in advice the network kept without the real PAN: located by its chip data, like a reversal', async () => {
    const card = pan();
    const { token, se } = await activeToken(tsp, card, 'SN-2011', '2911');
    const approved = (await tapRequest(se, token.tokenExpiry)).request;
    expect(code(await tsp.authorizer.authorize(approved))).toBe('00');
    const declined = (await tapRequest(se, token.tokenExpiry, { field4: '000000009999' })).request;
    expect(code(await tsp.authorizer.authorize(declined))).toBe('13');

    // The network's advice: the acquirer's 0100 with the stand-in's answer (38, 39), as 0120 or 0121.
    const adviceOf = (request: Iso8583Message, mti: string) =>
      editMessage(request, { [Field.authorizationIdResponse]: 'S00001', [Field.responseCode]: '00' }, mti);
    for (const mti of ['0120', '0121']) {
      const located = await tsp.authorizer.locateOriginal(adviceOf(approved, mti));
      expect([located.mti, code(located)]).toEqual(['0130', '00']);
      expect(getText(located, Field.pan)).toBe(card);
      expect(getText(located, Field.expiry)).toBe('2911');
    }
    const entries = (await tsp.handle.store.audit.list(0, 1_000_000)).filter(
      (e) => e.action === 'advice.located' && e.subject === token.id,
    );
    expect(entries).toHaveLength(2);
    expect(JSON.stringify(entries)).not.toContain(card);

    for (const [advice, expected, reason] of [
      [adviceOf(declined, '0120'), '25', 'ORIGINAL_NOT_FOUND'],
      [editMessage(adviceOf(approved, '0120'), { [Field.iccData]: undefined }), '30', 'FORMAT'],
      [
        withIcc(adviceOf(approved, '0121'), '9F26', (v) => v.map((b) => b ^ 0x80)),
        '82',
        'CRYPTOGRAM_INVALID',
      ],
    ] as const) {
      const answer = await tsp.authorizer.locateOriginal(advice);
      expect([answer.mti, code(answer), reasons(answer)]).toEqual(['0130', expected, [reason]]);
      expect(findClearPans(interchangeCodec.encode(answer)).map((h) => h.digits)).not.toContain(card);
    }
  });
});
