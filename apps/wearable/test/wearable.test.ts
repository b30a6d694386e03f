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
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decodePhoneCommand,
  encodePhoneCommand,
  formatTrace,
  type PhoneCommand,
  Wearable,
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
  const session = done.session;
  return async (command: PhoneCommand | Uint8Array) => {
    const bytes = command instanceof Uint8Array ? command : encodePhoneCommand(command);
    const record = w.handlePhoneRecord(session.seal(bytes));
    const opened = session.open(record);
    if (opened.kind !== 'data') throw new Error('closed');
    return JSON.parse(new TextDecoder().decode(opened.data)) as Record<string, unknown>;
  };
}

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

  it('pairs with the phone over the secure link and runs its commands', async () => {
    const w = wearable();
    await w.manufacture({ organization: 'ACME', serialNumber: 'SN-8', commonName: 'Band 2' }, enroll);
    const phone = await paired(w);
    expect(await phone({ op: 'set-pin', pin: '2468' })).toEqual({ ok: true });
    // Off the wrist, a PIN opens no CDCVM session; on the wrist it does.
    expect(await phone({ op: 'verify-pin', pin: '2468' })).toEqual({
      ok: false,
      error: 'ERR_WEARABLE_OFF_WRIST',
    });
    w.wristOn();
    expect(await phone({ op: 'verify-pin', pin: '1111' })).toEqual({
      ok: true,
      status: 'wrong',
      triesLeft: 4,
    });
    expect(await phone({ op: 'verify-pin', pin: '2468' })).toEqual({
      ok: true,
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
    expect(await phone({ op: 'set-default', tokenId: 'sandbox-mastercard-cvn17' })).toEqual({ ok: true });
    const cards = (await phone({ op: 'cards' })).cards as { id: string; default: boolean }[];
    expect(cards[0]).toMatchObject({ id: 'sandbox-mastercard-cvn17', default: true });
    expect(await phone({ op: 'set-default', tokenId: 'nope' })).toEqual({ ok: false, error: 'ERR_SE_TOKEN' });
    expect(await phone({ op: 'lock' })).toEqual({ ok: true, locked: 3 });
    await expect(
      tap((a) => w.nfc.transmit(a), { amount: 1, unpredictableNumber: fromHex('01020304') }),
    ).rejects.toThrow();
    expect(await phone(new TextEncoder().encode('{"op":"set-pin","pin":"1","x":1}'))).toEqual({
      ok: false,
      error: 'ERR_WEARABLE_COMMAND',
    });
    expect(await phone({ op: 'wipe' })).toEqual({ ok: true });
    expect(w.se.tokens()).toEqual([]);
    expect(w.se.pinTriesLeft).toBeUndefined();
    expect(w.se.certificates().length).toBe(2);
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

  it('property: phone commands round-trip, and any bytes decode or give the typed error', () => {
    const command = fc.oneof(
      fc.record({
        op: fc.constantFrom('set-pin' as const, 'verify-pin' as const),
        pin: fc.stringMatching(/^[0-9]{0,12}$/),
      }),
      fc.record({
        op: fc.constant('set-default' as const),
        tokenId: fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/),
      }),
      fc.record({ op: fc.constantFrom('lock' as const, 'wipe' as const, 'cards' as const) }),
    ) as fc.Arbitrary<PhoneCommand>;
    fc.assert(
      fc.property(command, (c) => {
        expect(decodePhoneCommand(encodePhoneCommand(c))).toEqual(c);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1100 }), (bytes) => {
        try {
          decodePhoneCommand(bytes);
        } catch (error) {
          expect((error as { code?: string }).code).toBe('ERR_WEARABLE_COMMAND');
        }
      }),
    );
  });
});
