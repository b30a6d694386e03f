import {
  authorizationKey,
  Field,
  interchangeSpec,
  originalDataElements,
  responseTo,
} from '@amulet/contracts';
import { createMessage, type FieldValue, type Iso8583Message } from '@amulet/iso8583';
import { scratchDatabases } from '@amulet/store/testing';
import { createMemoryTransport, type Transport } from '@amulet/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { AcquirerHost, AcquirerStore, type AcquirerStoreOptions, interchangeCodec } from '../src/index.ts';

const DPAN = '4761739001010010';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Where each run keeps its data: a temporary SQLite file, or a fresh PostgreSQL database. */
const backends = scratchDatabases('acquirer', cleanups);

/**
 * A small network over ISO 8583 that follows the contract: approves 0100s once per
 * transactionKey, acknowledges reversals and counts the distinct ones it applied.
 */
class ScriptedNetwork {
  readonly seen: Iso8583Message[] = [];
  readonly approvals = new Set<string>();
  readonly reversed = new Set<string>();
  silent = false;
  readonly handle = (m: Iso8583Message): Iso8583Message | undefined => {
    this.seen.push(m);
    if (this.silent) return undefined;
    if (m.mti === '0100') {
      this.approvals.add(authorizationKey(m));
      return responseTo(m, [2, 3, 4, 7, 11, 32, 41, 42, 49], {
        38: 'A00001',
        39: '00',
        48: '06040010',
      });
    }
    if (m.mti === '0420' || m.mti === '0421') {
      const original = m.fields.get(90) as string;
      this.reversed.add(original);
      return responseTo(m, [2, 3, 4, 7, 11, 32, 41, 42, 49], { 39: '00' });
    }
    return undefined;
  };
}

async function host(
  options: AcquirerStoreOptions,
  transport: Transport<Iso8583Message, { name: string }>,
  timeoutMs = 60,
  maxAttempts?: number,
) {
  const store = await AcquirerStore.open(options);
  const network = transport.connect(
    { name: 'network' },
    { reconnect: { initialDelayMs: 5, maxDelayMs: 20 } },
  );
  await network.connected();
  const acquirer = await AcquirerHost.start({
    store,
    network,
    acquiringInstitutionId: '123456',
    networkTimeoutMs: timeoutMs,
    reversal: { intervalMs: 40, ...(maxAttempts === undefined ? {} : { maxAttempts }) },
  });
  const stop = async () => {
    acquirer.close();
    await network.close();
    await store.close();
  };
  return { store, acquirer, stop };
}

function authorization(stan: string, terminalId = 'T0000001', merchantId = 'MERCHANT000001', mti = '0100') {
  return createMessage(
    interchangeSpec,
    mti,
    new Map<number, FieldValue>([
      [Field.pan, DPAN],
      [Field.processingCode, '000000'],
      [Field.amount, '000000001234'],
      [Field.transmissionDateTime, '1203093000'],
      [Field.stan, stan],
      [Field.posEntryMode, '071'],
      [Field.terminalId, terminalId],
      [Field.merchantId, merchantId.padEnd(15, ' ')],
      [Field.currencyCode, '978'],
      [Field.iccData, [{ tag: '9F36', value: new Uint8Array([0, 1]) }]],
    ]),
  );
}

const text = (m: Iso8583Message | undefined, f: number) => (m?.fields.get(f) as string | undefined) ?? '';
/** Through the codec, as over the wire. */
const wire = (m: Iso8583Message) => interchangeCodec.decode(interchangeCodec.encode(m));

for (const [name, backend] of Object.entries(backends)) {
  describe(`the acquirer host on ${name}`, () => {
    async function setup(maxAttempts?: number) {
      const transport = createMemoryTransport<Iso8583Message>({ codec: interchangeCodec });
      const network = new ScriptedNetwork();
      const server = await transport.listen({ handler: network.handle }, { name: 'network' });
      cleanups.push(() => server.close());
      const options = await backend();
      const first = await host(options, transport, 60, maxAttempts);
      await first.acquirer.addMerchant({
        merchantId: 'MERCHANT000001',
        nameLocation: 'AMULET CAFE PARIS FR',
        mcc: '5814',
      });
      await first.acquirer.addTerminal({ terminalId: 'T0000001', merchantId: 'MERCHANT000001' });
      return { transport, network, options, ...first };
    }

    it('checks the terminal and merchant, stamps 32, 18 and 43, records the answer before giving it', async () => {
      const s = await setup();
      cleanups.push(s.stop);
      expect(text(await s.acquirer.handle(wire(authorization('000001', 'T9999999'))), 39)).toBe('58');
      expect(text(await s.acquirer.handle(wire(authorization('000001', 'T0000001', 'OTHER'))), 39)).toBe(
        '03',
      );
      const answer = await s.acquirer.handle(wire(authorization('000002')));
      expect(text(answer, 39)).toBe('00');
      expect(text(answer, 38)).toBe('A00001');
      expect(answer?.fields.has(Field.acquiringInstitutionId)).toBe(false); // the terminal's own fields only
      const forwarded = s.network.seen[0]!;
      expect(text(forwarded, 32)).toBe('123456');
      expect(text(forwarded, 18)).toBe('5814');
      expect(text(forwarded, 43).trim()).toBe('AMULET CAFE PARIS FR');
      const [record] = await s.store.all();
      expect(record?.state).toBe('approved');
      expect(record?.authorizationId).toBe('A00001');
      // A repeat (0101, or a duplicate 0100) gets the stored answer and is never forwarded again.
      expect(
        text(
          await s.acquirer.handle(wire(authorization('000002', 'T0000001', 'MERCHANT000001', '0101'))),
          38,
        ),
      ).toBe('A00001');
      expect(s.network.seen).toHaveLength(1);
    });

    it('a silent network: 91 to the terminal, then 0420 and 0421 repeats until a 0430, exactly one reversal', async () => {
      const s = await setup();
      cleanups.push(s.stop);
      s.network.silent = true;
      expect(text(await s.acquirer.handle(wire(authorization('000003'))), 39)).toBe('91');
      await new Promise((r) => setTimeout(r, 150));
      expect(s.acquirer.pendingReversals).toBe(1);
      s.network.silent = false;
      await s.acquirer.settled();
      const mtis = s.network.seen.map((m) => m.mti);
      expect(mtis[0]).toBe('0100');
      expect(mtis[1]).toBe('0420');
      expect(mtis.slice(2).every((m) => m === '0421')).toBe(true);
      expect(mtis.length).toBeGreaterThanOrEqual(3);
      expect(s.network.reversed.size).toBe(1);
      const [record] = await s.store.all();
      expect(record?.state).toBe('reversed');
      expect(text(s.network.seen[1], 90)).toBe(
        originalDataElements({
          mti: '0100',
          stan: '000003',
          transmissionDateTime: '1203093000',
          acquiringInstitutionId: '123456',
        }),
      );
    });

    it('a reversal whose repeats ran out is started again by resumeReversals, not before, and once', async () => {
      const s = await setup(3);
      cleanups.push(s.stop);
      s.network.silent = true;
      expect(text(await s.acquirer.handle(wire(authorization('000006'))), 39)).toBe('91');
      // Three attempts, all unanswered: the delivery gives up and the row waits.
      await s.acquirer.settled();
      expect(s.acquirer.pendingReversals).toBe(0);
      expect((await s.store.all())[0]?.state).toBe('reversal-pending');
      const sent = s.network.seen.length;
      await new Promise((r) => setTimeout(r, 150));
      expect(s.network.seen.length).toBe(sent);
      s.network.silent = false;
      expect(await s.acquirer.resumeReversals()).toBe(1);
      // While it is being delivered, a second call leaves it alone.
      expect(await s.acquirer.resumeReversals()).toBe(0);
      await s.acquirer.settled();
      expect((await s.store.all())[0]?.state).toBe('reversed');
      expect(s.network.reversed.size).toBe(1);
      expect(await s.acquirer.resumeReversals()).toBe(0);
    });

    it('a restart resumes the reversal from the table, as a repeat (0421)', async () => {
      const s = await setup();
      s.network.silent = true;
      expect(text(await s.acquirer.handle(wire(authorization('000004'))), 39)).toBe('91');
      await new Promise((r) => setTimeout(r, 100));
      await s.stop(); // the process ends with the reversal undelivered
      expect(s.network.reversed.size).toBe(0);
      s.network.silent = false;
      const seenBefore = s.network.seen.length;
      const second = await host(s.options, s.transport);
      cleanups.push(second.stop);
      await second.acquirer.settled();
      const resumed = s.network.seen.slice(seenBefore);
      expect(resumed.map((m) => m.mti)[0]).toBe('0421');
      // The original's chip data goes with it, kept across the restart (the token service needs
      // it to place a token's reversal the network no longer has a route for).
      expect(resumed[0]?.fields.get(Field.iccData)).toEqual([{ tag: '9F36', value: new Uint8Array([0, 1]) }]);
      expect(s.network.reversed.size).toBe(1);
      expect((await second.store.all())[0]?.state).toBe('reversed');
      expect((await second.store.all())[0]?.reversalAttempts).toBeGreaterThanOrEqual(2);
    });

    it('a pending authorization found at start (a crash mid-flight) is reversed', async () => {
      const s = await setup();
      await s.store.insertPending({
        key: '00000123456/T0000001/000005/1203093000',
        terminalId: 'T0000001',
        merchantId: 'MERCHANT000001',
        stan: '000005',
        transmissionDateTime: '1203093000',
        amount: 50,
        currency: '978',
        dpan: DPAN,
        state: 'pending',
        request: {
          '2': DPAN,
          '4': '000000000050',
          '11': '000005',
          '7': '1203093000',
          '41': 'T0000001',
          '32': '123456',
          // Chip data that no longer decodes: the reversal still goes, without it.
          '55': '9F3603',
        },
      });
      await s.stop();
      const second = await host(s.options, s.transport);
      cleanups.push(second.stop);
      await second.acquirer.settled();
      expect((await second.store.all())[0]?.state).toBe('reversed');
      expect(s.network.reversed.size).toBe(1);
      const sent = s.network.seen.filter((m) => m.mti.startsWith('042'));
      expect(sent.length).toBeGreaterThanOrEqual(1);
      expect(sent.every((m) => !m.fields.has(Field.iccData))).toBe(true);
    });

    it("a terminal's reversal of an approval is forwarded once; of an unknown one, it blocks the late original", async () => {
      const s = await setup();
      cleanups.push(s.stop);
      await s.acquirer.handle(wire(authorization('000006')));
      const reversal = (stan: string, mti = '0420') => {
        const fields = new Map(authorization(stan).fields);
        fields.delete(Field.iccData);
        fields.set(
          90,
          originalDataElements({
            mti: '0100',
            stan,
            transmissionDateTime: '1203093000',
            acquiringInstitutionId: '',
          }),
        );
        return wire(createMessage(interchangeSpec, mti, fields));
      };
      expect((await s.acquirer.handle(reversal('000006')))?.mti).toBe('0430');
      expect((await s.acquirer.handle(reversal('000006', '0421')))?.mti).toBe('0430');
      await s.acquirer.settled();
      expect(s.network.reversed.size).toBe(1);
      expect(s.network.seen.filter((m) => m.mti.startsWith('04'))).toHaveLength(1);
      // Reversed before its original arrived: the original is answered 91 and never forwarded.
      expect((await s.acquirer.handle(reversal('000007')))?.mti).toBe('0430');
      expect(text(await s.acquirer.handle(wire(authorization('000007'))), 39)).toBe('91');
      expect(s.network.seen.filter((m) => text(m, 11) === '000007')).toHaveLength(0);
      const states = Object.fromEntries((await s.store.all()).map((r) => [r.stan, r.state]));
      expect(states).toEqual({ '000006': 'reversed', '000007': 'reversed' });
    });

    it('batch capture: approved and not reversed, each in one batch only', async () => {
      const s = await setup();
      cleanups.push(s.stop);
      await s.acquirer.handle(wire(authorization('000010')));
      await s.acquirer.handle(wire(authorization('000011')));
      s.network.silent = true;
      await s.acquirer.handle(wire(authorization('000012')));
      const batch = await s.acquirer.closeBatch('B1');
      expect(batch.map((c) => c.key.split('/')[2])).toEqual(['000010', '000011']);
      expect(batch.every((c) => c.amount === 1234 && c.dpan === DPAN && c.authorizationId === 'A00001')).toBe(
        true,
      );
      expect(await s.acquirer.closeBatch('B2')).toEqual([]);
    });
  });
}
