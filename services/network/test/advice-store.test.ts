import { scratchDatabases } from '@amulet/store/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { AdviceStore } from '../src/index.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A temporary SQLite file, or a fresh PostgreSQL database on the server the environment names. */
const backends = scratchDatabases('network', cleanups);

describe.each(Object.entries(backends))('the advice store on %s', (_name, backend) => {
  it('keeps each advice once until it is acknowledged, oldest first, across a reopening', async () => {
    const options = await backend();
    let clock = Date.UTC(2026, 11, 4, 20, 0, 0);
    const now = () => new Date(clock);
    const store = await AdviceStore.open(options, now);
    const first = {
      id: 'advice:k1',
      kind: 'advice',
      issuer: 'issuer',
      message: Uint8Array.of(0, 1, 0xfe),
    } as const;
    const second = {
      id: 'reversal:k0',
      kind: 'reversal',
      issuer: 'other',
      message: Uint8Array.of(7),
    } as const;
    await store.add(first);
    clock += 1000;
    await store.add(second);
    // The same advice again (a repeat of its authorization recorded twice) changes nothing.
    await store.add({ ...first, message: Uint8Array.of(9) });
    expect(await store.pending()).toEqual([first, second]);
    await store.close();

    const reopened = await AdviceStore.open(options, now);
    cleanups.push(() => reopened.close());
    expect(await reopened.pending()).toEqual([first, second]);
    await reopened.acknowledge(first.id);
    await reopened.acknowledge(first.id);
    await reopened.acknowledge('advice:never-recorded');
    expect(await reopened.pending()).toEqual([second]);
  });
});
