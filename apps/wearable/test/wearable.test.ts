import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { fromHex, toHex } from '@amulet/bytes';
import {
  createChainVerifier,
  finishPhoneHandshake,
  issueCertificate,
  type ParsedCertificate,
  parseCertificate,
  type Signer,
  startPhoneHandshake,
  verifyCsr,
} from '@amulet/pki';
import {
  CTQ_CDCVM,
  encodeVpcdFrame,
  runConformance,
  tap,
  VpcdFrameReader,
  webSocketTransport,
} from '@amulet/secure-element';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decodeWearerResponse,
  encodeWearerRequest,
  formatTrace,
  WEARER_ERROR_CODES,
  Wearable,
  type WearerRequest,
  type WearerResponse,
} from '../src/index.ts';

const NOW = new Date('2026-11-23T12:00:00Z');
const DAY_MS = 86_400_000;

function seededRng(seed: string): (n: number) => Uint8Array {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let filled = 0; filled < n; filled += 32) {
      const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, n - filled)), filled);
    }
    return out;
  };
}

function signer(): Signer {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  return {
    algorithm: 'ES256',
    publicKeySpki: () => spki,
    sign: async (data) => new Uint8Array(sign('sha256', data, { key: privateKey, dsaEncoding: 'der' })),
  };
}

interface Ca {
  readonly signer: Signer;
  readonly der: Uint8Array;
  readonly parsed: ParsedCertificate;
}
let root: Ca;
let deviceCa: Ca;
let serial = 1;
const window = {
  notBefore: new Date(NOW.getTime() - DAY_MS),
  notAfter: new Date(NOW.getTime() + 3650 * DAY_MS),
};

beforeAll(async () => {
  const rootSigner = signer();
  const rootDer = await issueCertificate(
    {
      profile: { kind: 'root' },
      subject: { commonName: 'Root' },
      subjectPublicKeyInfo: rootSigner.publicKeySpki(),
      serialNumber: Uint8Array.of(serial++),
      ...window,
    },
    rootSigner,
  );
  root = { signer: rootSigner, der: rootDer, parsed: parseCertificate(rootDer) };
  const caSigner = signer();
  const caDer = await issueCertificate(
    {
      profile: { kind: 'device-ca', tenantId: 'acme' },
      subject: { commonName: 'Device CA' },
      subjectPublicKeyInfo: caSigner.publicKeySpki(),
      serialNumber: Uint8Array.of(serial++),
      issuer: root.parsed,
      ...window,
    },
    root.signer,
  );
  deviceCa = { signer: caSigner, der: caDer, parsed: parseCertificate(caDer) };
});

/** The device CA's side of enrollment, as the root of trust does it (verify the CSR, issue). */
async function enroll(csr: Uint8Array): Promise<Uint8Array[]> {
  const request = verifyCsr(csr);
  const der = await issueCertificate(
    {
      profile: {
        kind: 'device',
        attributes: { oemId: 'ACME', model: 'Band 2', seType: 'embedded', tenantId: 'acme' },
      },
      subject: request.subject,
      subjectPublicKeyInfo: request.subjectPublicKeyInfo,
      serialNumber: Uint8Array.of(0x10, serial++),
      issuer: deviceCa.parsed,
      ...window,
    },
    deviceCa.signer,
  );
  return [der, deviceCa.der];
}

function wearable(seed = 'wearable') {
  return Wearable.open({
    deviceKey: new Uint8Array(32).fill(7),
    rng: seededRng(seed),
    clock: () => 0,
    sandboxCards: true,
  });
}

async function paired(w: Wearable) {
  const verifier = createChainVerifier({ trustAnchors: [root.der], tenantId: 'acme' });
  const phone = startPhoneHandshake({
    ephemeralPrivateKey: seededRng('phone')(32).map((b, i) => (i === 0 ? b & 0x7f : b)),
    random: seededRng('phone-r')(32),
  });
  const hello = await w.acceptPhone(phone.message);
  const done = finishPhoneHandshake(phone.state, hello.message, (chain) =>
    verifier.verify({ chain, nowMs: NOW.getTime(), purpose: 'device', revocation: () => 'good' }),
  );
  w.finishPairing(done.message);
  expect(done.sas).toBe(hello.sas);
  expect(w.sas).toBe(done.sas);
  const session = done.session;
  return async (request: WearerRequest | Uint8Array): Promise<WearerResponse> => {
    const bytes = request instanceof Uint8Array ? request : encodeWearerRequest(request);
    const record = await w.exchange(session.seal(bytes));
    const opened = session.open(record);
    if (opened.kind !== 'data') throw new Error('closed');
    return decodeWearerResponse(opened.data);
  };
}

const ATTEST_NONCE = new Uint8Array(32).fill(9);
const context = (text: string) => new TextEncoder().encode(text);

describe('the wearable', () => {
  it('manufactures: key in the SE, CSR to the device CA, chain stored', async () => {
    const w = wearable();
    const chain = await w.manufacture(
      { organization: 'ACME', serialNumber: 'SN-7', commonName: 'Band 2' },
      enroll,
    );
    expect(w.se.certificates().map(toHex)).toEqual(chain.map(toHex));
    expect(parseCertificate(chain[0] ?? new Uint8Array(0)).subject.serialNumber).toBe('SN-7');
  });

  it('pairs with the phone over the secure link and answers its requests', async () => {
    const w = wearable();
    await w.manufacture({ organization: 'ACME', serialNumber: 'SN-8', commonName: 'Band 2' }, enroll);
    const phone = await paired(w);
    expect(await phone({ kind: 'enroll-pin', pin: '2468' })).toEqual({
      kind: 'pin',
      status: 'enrolled',
      triesLeft: 5,
    });
    expect(await phone({ kind: 'enroll-pin', pin: '1357' })).toEqual({
      kind: 'pin',
      status: 'refused',
      triesLeft: 5,
    });
    // Off the wrist, a PIN opens no CDCVM session and no try is spent; on the wrist it does.
    expect(await phone({ kind: 'verify-pin', pin: '2468' })).toEqual({
      kind: 'error',
      code: WEARER_ERROR_CODES.offWrist,
    });
    w.wristOn();
    expect(await phone({ kind: 'verify-pin', pin: '1111' })).toEqual({
      kind: 'pin',
      status: 'wrong',
      triesLeft: 4,
    });
    expect(w.se.pinTriesLeft).toBe(4);
    expect(await phone({ kind: 'verify-pin', pin: '2468' })).toEqual({
      kind: 'pin',
      status: 'verified',
      triesLeft: 5,
    });
    const visa = await tap((a) => w.nfc.transmit(a), {
      amount: 500,
      unpredictableNumber: fromHex('01020304'),
    });
    // CTQ byte 2 b8: CDCVM performed (Visa VCPS).
    expect((visa.ctq?.[1] ?? 0) & CTQ_CDCVM).toBe(CTQ_CDCVM);
    w.wristOff();
    const after = await tap((a) => w.nfc.transmit(a), {
      amount: 500,
      unpredictableNumber: fromHex('01020304'),
    });
    expect((after.ctq?.[1] ?? 0) & CTQ_CDCVM).toBe(0);
    expect(
      await phone({ kind: 'command', command: 'set-default', tokenReference: 'sandbox-mastercard-cvn17' }),
    ).toEqual({ kind: 'done' });
    const cards = await phone({ kind: 'cards' });
    expect(cards.kind === 'cards' && cards.cards[0]).toMatchObject({
      id: 'sandbox-mastercard-cvn17',
      isDefault: true,
      status: 'active',
    });
    // A command for a card this SE does not hold changes nothing.
    expect(await phone({ kind: 'command', command: 'set-default', tokenReference: 'nope' })).toEqual({
      kind: 'done',
    });
    expect(w.se.tokens()[0]?.id).toBe('sandbox-mastercard-cvn17');
    expect(await phone({ kind: 'command', command: 'lock', tokenReference: '' })).toEqual({ kind: 'done' });
    expect(w.se.tokens().map((t) => t.status)).toEqual(['suspended', 'suspended', 'suspended']);
    await expect(
      tap((a) => w.nfc.transmit(a), { amount: 1, unpredictableNumber: fromHex('01020304') }),
    ).rejects.toThrow();
    expect(await phone({ kind: 'command', command: 'unlock', tokenReference: '' })).toEqual({ kind: 'done' });
    expect(w.se.tokens().map((t) => t.status)).toEqual(['active', 'active', 'active']);
    // A malformed message gets the fixed error code, inside the link.
    expect(await phone(Uint8Array.of(1, 0x01, 1, 0x31))).toEqual({
      kind: 'error',
      code: WEARER_ERROR_CODES.message,
    });
    expect(await phone({ kind: 'command', command: 'wipe', tokenReference: '' })).toEqual({ kind: 'done' });
    expect(w.se.tokens()).toEqual([]);
    expect(w.se.pinTriesLeft).toBeUndefined();
    expect(w.se.certificates().length).toBe(2);
  });

  it('attests a registration only for the code it shows, and "found" only after the PIN on this link', async () => {
    const w = wearable('attesting');
    await w.manufacture({ organization: 'ACME', serialNumber: 'SN-11', commonName: 'Band 2' }, enroll);
    const phone = await paired(w);
    const sas = w.sas ?? '';
    const wrongSas = sas === '000000' ? '111111' : '000000';
    expect(
      await phone({
        kind: 'attest',
        nonce: ATTEST_NONCE,
        context: context(`amulet-wallet/v1 register t1 ${wrongSas}`),
      }),
    ).toEqual({ kind: 'error', code: WEARER_ERROR_CODES.refused });
    const registered = await phone({
      kind: 'attest',
      nonce: ATTEST_NONCE,
      context: context(`amulet-wallet/v1 register t1 ${sas}`),
    });
    expect(registered.kind).toBe('attestation');
    const found = {
      kind: 'attest',
      nonce: ATTEST_NONCE,
      context: context('amulet-wallet/v1 found t1 dev_1'),
    } as const;
    expect(await phone(found)).toEqual({ kind: 'error', code: WEARER_ERROR_CODES.refused });
    expect(await phone({ kind: 'enroll-pin', pin: '8642' })).toMatchObject({ status: 'enrolled' });
    w.wristOn();
    expect(await phone({ kind: 'verify-pin', pin: '0000' })).toMatchObject({ status: 'wrong' });
    expect(await phone(found)).toEqual({ kind: 'error', code: WEARER_ERROR_CODES.refused });
    expect(await phone({ kind: 'verify-pin', pin: '8642' })).toMatchObject({ status: 'verified' });
    expect((await phone(found)).kind).toBe('attestation');
    // A new link starts without a verified PIN.
    const again = await paired(w);
    expect(await again(found)).toEqual({ kind: 'error', code: WEARER_ERROR_CODES.refused });
  });

  it('serves the phone link over a WebSocket, one message answered by one message', async () => {
    const w = wearable('ws-link');
    await w.manufacture({ organization: 'ACME', serialNumber: 'SN-12', commonName: 'Band 2' }, enroll);
    const server = await w.serveLink();
    const client = await webSocketTransport(server.url);
    try {
      const verifier = createChainVerifier({ trustAnchors: [root.der], tenantId: 'acme' });
      const phone = startPhoneHandshake({
        ephemeralPrivateKey: seededRng('phone-ws')(32).map((b, i) => (i === 0 ? b & 0x7f : b)),
        random: seededRng('phone-ws-r')(32),
      });
      const hello = await client.transmit(phone.message);
      const done = finishPhoneHandshake(phone.state, hello, (chain) =>
        verifier.verify({ chain, nowMs: NOW.getTime(), purpose: 'device', revocation: () => 'good' }),
      );
      expect((await client.transmit(done.message)).length).toBe(0);
      expect(w.sas).toBe(done.sas);
      const opened = done.session.open(
        await client.transmit(done.session.seal(encodeWearerRequest({ kind: 'cards' }))),
      );
      expect(opened.kind === 'data' && decodeWearerResponse(opened.data)).toMatchObject({ kind: 'cards' });
      // A record that does not open ends the connection, with no answer.
      await expect(client.transmit(new Uint8Array(40).fill(0x17))).rejects.toThrow();
    } finally {
      await client.close?.();
      await server.close();
    }
  });

  it('refuses a record altered on the link', async () => {
    const w = wearable();
    await w.manufacture({ organization: 'ACME', serialNumber: 'SN-9', commonName: 'Band 2' }, enroll);
    await paired(w);
    expect(() => w.handlePhoneRecord(new Uint8Array(40))).toThrow();
  });

  it('the secure link signer signs nothing but link transcripts', async () => {
    const w = wearable();
    await w.manufacture({ organization: 'ACME', serialNumber: 'SN-10', commonName: 'Band 2' }, enroll);
    await expect(
      w.se.secureLinkSigner().sign(new TextEncoder().encode('AMULET-ATTEST-V1\0anything')),
    ).rejects.toThrow(/only secure link transcripts/);
  });

  it('serves its NFC field over WebSocket (conformance suite) and traces the APDUs, masked', async () => {
    const servers: { close(): Promise<void> }[] = [];
    const outcomes = await runConformance(async () => {
      const server = await wearable().serveNfc();
      servers.push(server);
      return webSocketTransport(server.url);
    });
    for (const s of servers) await s.close();
    expect(outcomes.filter((o) => !o.passed)).toEqual([]);
    const w = wearable();
    await tap((a) => w.nfc.transmit(a), {
      amount: 1234,
      unpredictableNumber: fromHex('DEADBEEF'),
      aid: 'A0000000041010',
    });
    const text = formatTrace(w.trace.entries());
    expect(text).toContain('> SELECT: 00A40400 325041592E5359532E4444463031');
    expect(text).toContain('> GENERATE AC: 80AE8000 [33 bytes]');
    expect(text).toContain('541333******0012');
    expect(text).not.toContain('5413330089010012');
  });

  it('attaches to vpcd as a virtual card: the reader side selects the PPSE through it', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const socketPromise = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const w = wearable();
    const card = await w.attachVpcd({ port: (server.address() as { port: number }).port });
    const socket = await socketPromise;
    const reader = new VpcdFrameReader();
    const answer = new Promise<Uint8Array>((resolve) =>
      socket.on('data', (chunk: Buffer) => {
        const [frame] = reader.push(new Uint8Array(chunk));
        if (frame !== undefined) resolve(frame);
      }),
    );
    socket.write(encodeVpcdFrame(fromHex('00A404000E325041592E5359532E444446303100')));
    expect(toHex((await answer).subarray(-2))).toBe('9000');
    expect(formatTrace(w.trace.entries())).toContain('> SELECT: 00A40400 325041592E5359532E4444463031');
    await card.close();
    await new Promise((resolve) => server.close(resolve));
  });
});
