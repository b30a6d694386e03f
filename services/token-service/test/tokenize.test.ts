import { Field, TokenDataId } from '@amulet/contracts';
import { isLuhnValid } from '@amulet/emv';
import { getText } from '@amulet/iso8583';
import { findClearPans } from '@amulet/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenDataOf } from '../src/idv.ts';
import type { TokenServiceError } from '../src/index.ts';
import {
  activeToken,
  encryptCard,
  newWearable,
  OTHER_TRID,
  provision,
  startTsp,
  TRID,
  type Tsp,
  testPki,
} from './harness.ts';

const PANS: string[] = [];
/** A fresh Luhn-valid PAN under the test issuer's BIN 476173 (Visa) or 541333 (Mastercard). */
function pan(bin = '476173'): string {
  const body = `${bin}${String(PANS.length + 1).padStart(15 - bin.length, '0')}`;
  for (let d = 0; d < 10; d++) {
    if (isLuhnValid(body + d)) {
      PANS.push(body + d);
      return body + d;
    }
  }
  throw new Error('unreachable');
}

async function rejection(promise: Promise<unknown>): Promise<TokenServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as TokenServiceError;
  }
  throw new Error('expected a rejection');
}

describe.each(['sqlite', 'postgres'] as const)('tokenization and lifecycle on %s', (kind) => {
  let tsp: Tsp;
  beforeAll(async () => {
    tsp = await startTsp(kind, `tokenize-${kind}`);
  });
  afterAll(async () => {
    // DESIGN.md invariant 2: no clear PAN anywhere in what the store wrote.
    const dumps = await tsp.handle.dump();
    const found = dumps.flatMap((bytes) => findClearPans(bytes)).map((hit) => hit.digits);
    for (const p of PANS) expect(found).not.toContain(p);
    await tsp.close();
  });

  it('green ID&V: an inactive token with a Luhn-valid DPAN from the range, PAR, history; the 0100 the issuer got', async () => {
    const card = pan();
    const wearable = await newWearable(tsp, 'SN-1001');
    const seenBefore = tsp.issuer.behaviour.seen.length;
    const outcome = await tsp.service.tokenize({
      requestorTrid: TRID,
      encryptedCard: await encryptCard(tsp, { pan: card, expiry: '3012', cvv: '123' }),
      deviceCertificateChain: wearable.chain,
    });
    expect(outcome.status).toBe('provisioning');
    if (outcome.status !== 'provisioning') return;
    const token = await tsp.handle.store.vault.getToken(outcome.token.tokenId);
    expect(token?.status).toBe('inactive');
    expect(token?.dpan).toMatch(/^4895\d{12}$/);
    expect(isLuhnValid(token?.dpan ?? '')).toBe(true);
    expect(token?.dpan).not.toBe(card);
    expect(outcome.token.par).toMatch(/^A1B2[0-9A-Z]{25}$/);
    expect(outcome.token.lastFour).toBe(token?.dpan.slice(-4));
    expect(JSON.stringify(outcome)).not.toContain(token?.dpan);
    const history = await tsp.handle.store.vault.statusHistory(outcome.token.tokenId);
    expect(history).toMatchObject([{ from: 'none', to: 'inactive', actor: 'wallet' }]);
    const request = tsp.issuer.behaviour.seen[seenBefore];
    expect(request?.mti).toBe('0100');
    expect(getText(request!, Field.processingCode)).toBe('180000');
    expect(getText(request!, Field.amount)).toBe('000000000000');
    expect(getText(request!, Field.pan)).toBe(card);
    expect(getText(request!, Field.expiry)).toBe('3012');
    const data = tokenDataOf(request!);
    expect(data.get(TokenDataId.messageReason)).toBe('TAR');
    expect(data.get(TokenDataId.tokenRequestorId)).toBe(TRID);
    expect(data.get(TokenDataId.deviceId)).toBe(outcome.token.deviceId);
  });

  it('one PAR per PAN across its tokens; each token its own DPAN', async () => {
    const card = pan();
    const a = await activeToken(tsp, card, 'SN-1002');
    const b = await activeToken(tsp, card, 'SN-1003');
    expect(a.view.par).toBe(b.view.par);
    expect(a.token.dpan).not.toBe(b.token.dpan);
    const byPar = await tsp.service.search({ par: a.view.par });
    expect(byPar.map((t) => t.tokenId).sort()).toEqual([a.token.id, b.token.id].sort());
  });

  it('yellow ID&V: step-up, a wrong OTP is declined, the right one lets provisioning go on', async () => {
    const card = pan();
    tsp.issuer.behaviour.decisions.set(card, 'yellow');
    const wearable = await newWearable(tsp, 'SN-1004');
    const outcome = await tsp.service.tokenize({
      requestorTrid: TRID,
      encryptedCard: await encryptCard(tsp, { pan: card, expiry: '3012' }),
      deviceCertificateChain: wearable.chain,
    });
    expect(outcome.status).toBe('step-up');
    if (outcome.status !== 'step-up') return;
    const tokenId = outcome.token.tokenId;
    // Provisioning cannot start before the OTP.
    expect((await rejection(tsp.provisioner.start(tokenId))).code).toBe('ERR_TSP_STATE');
    const wrong = await tsp.service.activateWithOtp({ tokenId, requestorTrid: TRID, otp: '000000' });
    expect(wrong).toEqual({ status: 'declined', reason: 'ISSUER_DECLINED_55' });
    const otpRequest = tsp.issuer.behaviour.seen.at(-1)!;
    expect(tokenDataOf(otpRequest).get(TokenDataId.messageReason)).toBe('OTP');
    expect(tokenDataOf(otpRequest).get(TokenDataId.otp)).toBe('000000');
    const right = await tsp.service.activateWithOtp({ tokenId, requestorTrid: TRID, otp: '123456' });
    expect(right.status).toBe('provisioning');
    expect((await provision(tsp, tokenId, wearable.se)).state).toBe('confirmed');
    expect((await tsp.service.getToken(tokenId)).status).toBe('active');
    expect((await tsp.service.getToken(tokenId)).assuranceMethod).toBe('11');
  });

  it('red ID&V: declined with the issuer code; no token', async () => {
    const card = pan();
    tsp.issuer.behaviour.decisions.set(card, '05');
    const wearable = await newWearable(tsp, 'SN-1005');
    const outcome = await tsp.service.tokenize({
      requestorTrid: TRID,
      encryptedCard: await encryptCard(tsp, { pan: card, expiry: '3012' }),
      deviceCertificateChain: wearable.chain,
    });
    expect(outcome).toEqual({ status: 'declined', reason: 'ISSUER_DECLINED_05' });
    expect(await tsp.service.search({ deviceId: wearable.cert.parsed.serialHex })).toEqual([]);
  });

  it('refuses a revoked device, an unknown CA, a tampered JWE, an unknown requestor, with fixed messages', async () => {
    const card = pan();
    const wearable = await newWearable(tsp, 'SN-1006');
    const jwe = await encryptCard(tsp, { pan: card, expiry: '3012' });
    tsp.revokedSerials.push(wearable.cert.parsed.serialHex);
    // The revocation list is read when the service is built: rebuild one that sees it.
    const { TokenService } = await import('../src/index.ts');
    const { Iso8583IdvGateway } = await import('../src/idv.ts');
    const idv = new Iso8583IdvGateway(tsp.world, { institutionId: '99990001' });
    const strict = new TokenService({
      store: tsp.handle.store,
      hsm: tsp.hsm,
      world: tsp.world,
      keys: { kekId: 'vault-kek-1', lookupKeyId: 'pan-lookup', jweKeyId: 'tsp-jwe' },
      profiles: { visa: { imkKeyId: 'imk-visa', cvn: 18 } },
      deviceTrust: { trustAnchors: [tsp.pki.root.der], revokedSerials: [...tsp.revokedSerials] },
      idv,
      binControllerId: 'A1B2',
    });
    const revoked = await rejection(
      strict.tokenize({ requestorTrid: TRID, encryptedCard: jwe, deviceCertificateChain: wearable.chain }),
    );
    expect(revoked.code).toBe('ERR_TSP_DEVICE_CERTIFICATE');
    expect(revoked.message).toContain('revoked');
    await idv.close();
    const foreign = await testPki();
    const stranger = await foreign.device('SN-9999');
    const unknownCa = await rejection(
      tsp.service.tokenize({
        requestorTrid: TRID,
        encryptedCard: jwe,
        deviceCertificateChain: [stranger.der, foreign.deviceCa.der],
      }),
    );
    expect(unknownCa.code).toBe('ERR_TSP_DEVICE_CERTIFICATE');
    const parts = jwe.split('.');
    const flipped = parts[3]!.startsWith('A') ? `B${parts[3]!.slice(1)}` : `A${parts[3]!.slice(1)}`;
    const tampered = await rejection(
      tsp.service.tokenize({
        requestorTrid: TRID,
        encryptedCard: [parts[0], parts[1], parts[2], flipped, parts[4]].join('.'),
        deviceCertificateChain: wearable.chain,
      }),
    );
    expect(tampered.code).toBe('ERR_TSP_CARD_DATA');
    expect(tampered.message).toBe('the card data could not be decrypted');
    const unknown = await rejection(
      tsp.service.tokenize({
        requestorTrid: '99999999999',
        encryptedCard: jwe,
        deviceCertificateChain: wearable.chain,
      }),
    );
    expect(unknown.code).toBe('ERR_TSP_REQUESTOR_UNKNOWN');
    for (const error of [revoked, unknownCa, tampered, unknown]) expect(error.message).not.toContain(card);
  });

  it('an issuer that does not answer: ERR_TSP_ISSUER_UNAVAILABLE, and no token', async () => {
    const card = pan('400001');
    await tsp.service.addIssuer({
      id: `bank-down-${kind}`,
      name: 'Unreachable Bank',
      idvEndpoint: '127.0.0.1:1',
      authEndpoint: '127.0.0.1:1',
      bins: ['400001'],
    });
    const { TokenService } = await import('../src/index.ts');
    const { Iso8583IdvGateway } = await import('../src/idv.ts');
    const idv = new Iso8583IdvGateway(tsp.world, { institutionId: '99990001', timeoutMs: 300 });
    const service = new TokenService({
      store: tsp.handle.store,
      hsm: tsp.hsm,
      world: tsp.world,
      keys: { kekId: 'vault-kek-1', lookupKeyId: 'pan-lookup', jweKeyId: 'tsp-jwe' },
      profiles: { visa: { imkKeyId: 'imk-visa', cvn: 18 } },
      deviceTrust: { trustAnchors: [tsp.pki.root.der], intermediates: [tsp.pki.deviceCa.der] },
      idv,
      binControllerId: 'A1B2',
    });
    const wearable = await newWearable(tsp, 'SN-1010');
    try {
      const error = await rejection(
        service.tokenize({
          requestorTrid: TRID,
          encryptedCard: await encryptCard(tsp, { pan: card, expiry: '3012' }),
          deviceCertificateChain: wearable.chain,
        }),
      );
      expect(error.code).toBe('ERR_TSP_ISSUER_UNAVAILABLE');
      expect(error.message).not.toContain(card);
      expect(
        await tsp.handle.store.vault.findPanRecordByLookup(await tsp.service.cards.lookup(card)),
      ).toBeUndefined();
    } finally {
      await idv.close();
    }
  });

  it('lifecycle: suspend, resume, delete many with actor and reason; forbidden moves; other requestors see nothing', async () => {
    const a = await activeToken(tsp, pan(), 'SN-1008');
    const b = await activeToken(tsp, pan(), 'SN-1008', '3012', a);
    const ids = [a.token.id, b.token.id];
    const suspended = await tsp.service.changeStatus({
      tokenIds: ids,
      action: 'suspend',
      actor: 'cardholder',
      reason: 'lost',
    });
    expect(suspended.map((o) => o.ok && o.status)).toEqual(['suspended', 'suspended']);
    const again = await tsp.service.changeStatus({
      tokenIds: [a.token.id],
      action: 'suspend',
      actor: 'wallet',
      reason: 'x',
    });
    expect(again).toEqual([{ tokenId: a.token.id, ok: false, problem: 'not-allowed' }]);
    const other = await tsp.service.changeStatus({
      tokenIds: [a.token.id],
      action: 'resume',
      actor: 'wallet',
      reason: 'found',
      requestorTrid: OTHER_TRID,
    });
    expect(other).toEqual([{ tokenId: a.token.id, ok: false, problem: 'not-found' }]);
    expect((await rejection(tsp.service.getToken(a.token.id, OTHER_TRID))).code).toBe('ERR_TSP_NOT_FOUND');
    await tsp.service.changeStatus({
      tokenIds: [a.token.id],
      action: 'resume',
      actor: 'cardholder',
      reason: 'found',
    });
    await tsp.service.changeStatus({
      tokenIds: ids,
      action: 'delete',
      actor: 'issuer',
      reason: 'card closed',
    });
    const history = await tsp.handle.store.vault.statusHistory(a.token.id);
    expect(history.map((h) => [h.to, h.actor, h.reason])).toEqual([
      ['inactive', 'wallet', 'created'],
      ['active', 'tsp', 'secure element confirmed personalization'],
      ['suspended', 'cardholder', 'lost'],
      ['active', 'cardholder', 'found'],
      ['deleted', 'issuer', 'card closed'],
    ]);
    const byDevice = await tsp.service.search({ deviceId: a.view.deviceId, requestorTrid: TRID });
    expect(byDevice.map((t) => t.status)).toEqual(['deleted', 'deleted']);
    expect(await tsp.service.search({ deviceId: a.view.deviceId, requestorTrid: OTHER_TRID })).toEqual([]);
  });

  it('issuer PAN update keeps the PAR and the tokens; metadata is shared by the tokens of a card', async () => {
    const oldPan = pan();
    const newPan = pan();
    const a = await activeToken(tsp, oldPan, 'SN-1009');
    const result = await tsp.service.updatePan({ currentPan: oldPan, newPan, newExpiry: '3106' });
    expect(result).toEqual({ par: a.view.par, tokens: 1 });
    const record = await tsp.handle.store.vault.getPanRecord(a.token.panRecordId);
    expect(await tsp.service.cards.reveal(record!)).toEqual({ pan: newPan, expiry: '3106' });
    expect((await tsp.service.getToken(a.token.id)).par).toBe(a.view.par);
    await tsp.service.setMetadata(a.token.id, {
      art: 'https://cdn.example/card.png',
      issuerName: 'Test Bank',
      terms: 'v1',
    });
    expect(await tsp.service.getMetadata(a.token.id)).toEqual({
      art: 'https://cdn.example/card.png',
      issuerName: 'Test Bank',
      terms: 'v1',
    });
    expect((await rejection(tsp.service.getMetadata(a.token.id, OTHER_TRID))).code).toBe('ERR_TSP_NOT_FOUND');
  });

  it('key rotation re-wraps every data key; every card still decrypts', async () => {
    const cards = [pan(), pan(), pan()];
    for (const [i, card] of cards.entries()) await activeToken(tsp, card, `SN-11${i}`);
    const before = await tsp.handle.store.vault.countByWrappingKey('vault-kek-1');
    expect(before).toBeGreaterThanOrEqual(3);
    const moved = await tsp.service.rotateDataKeys('vault-kek-1', 'vault-kek-2', 2);
    expect(moved).toBe(before);
    expect(await tsp.handle.store.vault.countByWrappingKey('vault-kek-1')).toBe(0);
    for (const card of cards) {
      const record = await tsp.handle.store.vault.findPanRecordByLookup(await tsp.service.cards.lookup(card));
      expect(record?.wrappingKeyId).toBe('vault-kek-2');
      expect((await tsp.service.cards.reveal(record!)).pan).toBe(card);
    }
  });
});
