import { fromHex, toHex } from '@amulet/bytes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decryptCbc, encryptCbc } from '../src/cipher/index.ts';
import {
  formatKeyBlockHeader,
  KeyBlockError,
  type KeyBlockHeader,
  parseKeyBlockHeader,
  unwrapKeyBlock,
  wrapKeyBlock,
} from '../src/index.ts';
import { cmac } from '../src/mac/index.ts';
import { deriveKeyBlockKeys } from '../src/tr31/derive-key-block-keys.ts';
import { withPaddingBlock } from '../src/tr31/optional-blocks.ts';
import { loadVectors } from './vector-file.ts';

/** A deterministic random source for tests: the bytes 0, 1, 2... from a seed. */
const counting =
  (seed = 0) =>
  (length: number) =>
    Uint8Array.from({ length }, (_, i) => (seed + i) & 0xff);

const baseHeader = (version: KeyBlockHeader['version']): KeyBlockHeader => ({
  version,
  keyUsage: 'P0',
  algorithm: version === 'D' ? 'A' : 'T',
  modeOfUse: 'E',
  keyVersionNumber: '00',
  exportability: 'E',
  keyContext: '0',
  optionalBlocks: [],
});

function keyBlockError(run: () => unknown): KeyBlockError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(KeyBlockError);
    return error as KeyBlockError;
  }
  throw new Error('expected a KeyBlockError');
}

describe('tr31.json: TR-31 / ANSI X9.143 key blocks, versions A to D', () => {
  for (const v of loadVectors('tr31')) {
    it(`${v.id} (${v.source.repo})`, () => {
      const kbpk = fromHex(v.inputs.kbpk);
      const keyBlock: string = v.inputs.key_block;
      const { key, header } = unwrapKeyBlock({ kbpk, keyBlock });
      expect(toHex(key)).toBe(v.expected.key);
      expect(header.version).toBe(keyBlock[0]);
      // The header reads back to the same text.
      expect(formatKeyBlockHeader(header, keyBlock.length)).toBe(
        keyBlock.slice(0, 16 + formatBlocksLength(header)),
      );
      // One flipped MAC or key data bit, or the wrong KBPK, is the one fixed MAC error.
      const last = keyBlock.at(-1) === '0' ? '1' : '0';
      for (const tampered of [keyBlock.slice(0, -1) + last, flipFirstDataDigit(keyBlock, header)]) {
        const error = keyBlockError(() => unwrapKeyBlock({ kbpk, keyBlock: tampered }));
        expect([error.code, error.message]).toEqual(['ERR_TR31_MAC', 'key block authentication failed']);
      }
      const wrongKbpk = kbpk.map((byte, i) => (i === 0 ? byte ^ 0x02 : byte));
      expect(keyBlockError(() => unwrapKeyBlock({ kbpk: wrongKbpk, keyBlock })).code).toBe('ERR_TR31_MAC');
    });
  }
});

function formatBlocksLength(header: KeyBlockHeader): number {
  return formatKeyBlockHeader(header, 0).length - 16;
}

function flipFirstDataDigit(keyBlock: string, header: KeyBlockHeader): string {
  const at = 16 + formatBlocksLength(header);
  const digit = keyBlock[at] === 'A' ? 'B' : 'A';
  return keyBlock.slice(0, at) + digit + keyBlock.slice(at + 1);
}

describe('wrapKeyBlock reproduces the published version B and D key blocks', () => {
  for (const v of loadVectors('tr31').filter((c) => 'BD'.includes(c.inputs.key_block[0]))) {
    it(`${v.id}: wrap with the same padding gives the same text`, () => {
      const kbpk = fromHex(v.inputs.kbpk);
      const keyBlock: string = v.inputs.key_block;
      const { key, header } = unwrapKeyBlock({ kbpk, keyBlock });
      // Recover the published random padding, then wrap again with it.
      const version = header.version as 'B' | 'D';
      const cipher = version === 'D' ? 'aes' : 'tdes';
      const macDigits = version === 'D' ? 32 : 16;
      const headerLength = 16 + formatBlocksLength(header);
      const body = keyBlock.slice(headerLength);
      const keys = deriveKeyBlockKeys(version, kbpk);
      const keyData = decryptCbc(
        cipher,
        keys.encryptionKey,
        fromHex(body.slice(0, -macDigits)),
        fromHex(body.slice(-macDigits)),
      );
      const padding = keyData.slice(2 + key.length);
      const wrapped = wrapKeyBlock({
        kbpk,
        key,
        header,
        maskedKeyLength: keyData.length - 2,
        random: (length) => {
          expect(length).toBe(padding.length);
          return padding;
        },
      });
      expect(wrapped).toBe(keyBlock);
    });
  }
});

const alphanumeric = fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ');
const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
});
const optionalBlock = fc.record({
  id: fc
    .tuple(alphanumeric, alphanumeric)
    .map(([a, b]) => a + b)
    .filter((id) => id !== 'PB'),
  data: fc.oneof(
    { weight: 9, arbitrary: printable },
    {
      weight: 1,
      arbitrary: fc.string({ minLength: 260, maxLength: 300, unit: fc.constantFrom('0', 'A', ' ') }),
    },
  ),
});
const headerArbitrary = fc.record({
  version: fc.constantFrom('B' as const, 'D' as const),
  keyUsage: fc.tuple(alphanumeric, alphanumeric).map(([a, b]) => a + b),
  algorithm: fc.constantFrom(...'ADEHRST'),
  modeOfUse: fc.constantFrom(...'BCDEGNSTVXY'),
  keyVersionNumber: fc.constantFrom('00', 'c1', '12', 'AZ'),
  exportability: fc.constantFrom(...'ENS'),
  keyContext: fc.constantFrom('0', '1', '2'),
  optionalBlocks: fc.array(optionalBlock, { maxLength: 3 }),
});

describe('key block properties', () => {
  it('unwrap(wrap(key)) gives back the key and the header, for random keys and headers', () => {
    fc.assert(
      fc.property(
        headerArbitrary,
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 1, max: 32 }),
        fc.integer({ min: 0, max: 16 }),
        fc.nat(),
        (header, material, keyLengthWanted, extra, seed) => {
          const kbpkLength = header.version === 'B' ? [16, 24][seed % 2]! : [16, 24, 32][seed % 3]!;
          const kbpk = material.slice(0, kbpkLength);
          const key = material.slice(
            32 - Math.min(keyLengthWanted, header.version === 'B' ? kbpkLength : 32),
          );
          const keyBlock = wrapKeyBlock({
            kbpk,
            key,
            header,
            random: counting(seed),
            maskedKeyLength: key.length + extra,
          });
          const opened = unwrapKeyBlock({ kbpk, keyBlock });
          expect(toHex(opened.key)).toBe(toHex(key));
          const { optionalBlocks, ...fields } = opened.header;
          const { optionalBlocks: wanted, ...wantedFields } = header;
          expect(fields).toEqual(wantedFields);
          expect(optionalBlocks.filter((block) => block.id !== 'PB')).toEqual(wanted);
          expect(keyBlock.length).toBe(Number(keyBlock.slice(1, 5)));
        },
      ),
      { numRuns: 10_000 },
    );
  });

  it('parseKeyBlockHeader(formatKeyBlockHeader(header)) is the header', () => {
    fc.assert(
      fc.property(headerArbitrary, fc.constantFrom('A', 'B', 'C', 'D'), (header, version) => {
        const blocks = withPaddingBlock(header.optionalBlocks, version === 'D' ? 16 : 8);
        const padded: KeyBlockHeader = {
          ...header,
          version: version as KeyBlockHeader['version'],
          optionalBlocks: blocks,
        };
        const text = formatKeyBlockHeader(padded, 112);
        expect(parseKeyBlockHeader(text)).toEqual(padded);
        expect(formatKeyBlockHeader(parseKeyBlockHeader(text), 112)).toBe(text);
      }),
      { numRuns: 10_000 },
    );
  });

  it('unwrap never crashes: any text gives a key or a KeyBlockError', () => {
    const kbpk = fromHex('89E88CF7931444F334BD7547FC3F380C');
    const valid =
      'B0120P0TE12E0100KS1800604B120F9292800000E6E28F097CB0350B2EB2DF520947F779FA34D9759CEE7E0DEEACF8353DB778D47FA4EC20DA3A9754';
    const mutated = fc
      .tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 0x7f }), fc.boolean())
      .map(([at, code, cut]) =>
        cut ? valid.slice(0, at) : valid.slice(0, at) + String.fromCharCode(code) + valid.slice(at + 1),
      );
    fc.assert(
      fc.property(fc.oneof(fc.string(), printable, mutated), (text) => {
        try {
          unwrapKeyBlock({ kbpk, keyBlock: text });
        } catch (error) {
          expect(error).toBeInstanceOf(KeyBlockError);
          expect((error as Error).message).not.toContain(toHex(kbpk));
        }
        try {
          parseKeyBlockHeader(text);
        } catch (error) {
          expect(error).toBeInstanceOf(KeyBlockError);
        }
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('key block rejections, each with its typed error', () => {
  const kbpkB = fromHex('89E88CF7931444F334BD7547FC3F380C');
  const validB =
    'B0120P0TE12E0100KS1800604B120F9292800000E6E28F097CB0350B2EB2DF520947F779FA34D9759CEE7E0DEEACF8353DB778D47FA4EC20DA3A9754';
  const replace = (text: string, at: number, value: string) =>
    text.slice(0, at) + value + text.slice(at + value.length);
  const unwrapCode = (keyBlock: string, kbpk = kbpkB) =>
    keyBlockError(() => unwrapKeyBlock({ kbpk, keyBlock })).code;

  it('refuses unknown versions, and makes only versions B and D', () => {
    expect(unwrapCode(replace(validB, 0, 'E'))).toBe('ERR_TR31_VERSION');
    expect(unwrapCode(replace(validB, 0, '1'))).toBe('ERR_TR31_VERSION');
    for (const version of ['A', 'C'] as const) {
      const error = keyBlockError(() =>
        wrapKeyBlock({
          kbpk: kbpkB,
          key: new Uint8Array(16),
          header: baseHeader(version),
          random: counting(),
        }),
      );
      expect(error.code).toBe('ERR_TR31_VERSION');
    }
  });

  it('checks the length field against the text and the key data against the block size', () => {
    expect(unwrapCode(replace(validB, 1, '0121'))).toBe('ERR_TR31_LENGTH');
    expect(unwrapCode(replace(validB, 1, '01X0'))).toBe('ERR_TR31_HEADER');
    expect(unwrapCode(`${replace(validB, 1, '0122')}00`)).toBe('ERR_TR31_LENGTH');
    expect(unwrapCode(validB.slice(0, 15))).toBe('ERR_TR31_LENGTH');
  });

  it('checks every fixed header field', () => {
    expect(unwrapCode(replace(validB, 5, 'p0'))).toBe('ERR_TR31_HEADER');
    expect(unwrapCode(replace(validB, 7, 'Q'))).toBe('ERR_TR31_HEADER');
    expect(unwrapCode(replace(validB, 8, 'Z'))).toBe('ERR_TR31_HEADER');
    expect(unwrapCode(replace(validB, 9, '1-'))).toBe('ERR_TR31_HEADER');
    expect(unwrapCode(replace(validB, 11, 'X'))).toBe('ERR_TR31_HEADER');
    expect(unwrapCode(replace(validB, 12, '0A'))).toBe('ERR_TR31_HEADER');
    expect(unwrapCode(replace(validB, 14, '3'))).toBe('ERR_TR31_HEADER');
    expect(unwrapCode(replace(validB, 15, '1'))).toBe('ERR_TR31_HEADER');
    const error = keyBlockError(() => unwrapKeyBlock({ kbpk: kbpkB, keyBlock: replace(validB, 8, 'Z') }));
    expect([error.path, error.offset]).toEqual([['header', 'modeOfUse'], 8]);
  });

  it('checks optional blocks: count, lengths, characters, PB last, header size', () => {
    expect(unwrapCode(replace(validB, 12, '02'))).toBe('ERR_TR31_OPTIONAL_BLOCK');
    expect(unwrapCode(replace(validB, 18, '03'))).toBe('ERR_TR31_OPTIONAL_BLOCK');
    expect(unwrapCode(replace(validB, 18, '1G'))).toBe('ERR_TR31_OPTIONAL_BLOCK');
    expect(unwrapCode(replace(validB, 16, 'k'))).toBe('ERR_TR31_OPTIONAL_BLOCK');
    expect(unwrapCode(replace(validB, 18, '17'))).toBe('ERR_TR31_HEADER');
    // A PB block anywhere but last.
    const pbFirst = 'A0000P0TE00E0200PB04KS0C00604B12';
    expect(keyBlockError(() => parseKeyBlockHeader(pbFirst)).code).toBe('ERR_TR31_OPTIONAL_BLOCK');
    // The extended length for a block that fits the short form.
    const nonMinimal = 'B0000P0TE00E0100KS0002000E1234';
    expect(keyBlockError(() => parseKeyBlockHeader(`${nonMinimal}00`)).code).toBe('ERR_TR31_OPTIONAL_BLOCK');
    // A control character in optional block data.
    expect(unwrapCode(replace(validB, 22, '\u0001'))).toBe('ERR_TR31_ENCODING');
    expect(keyBlockError(() => parseKeyBlockHeader(`${validB.slice(0, 40)}X`)).code).toBe('ERR_TR31_HEADER');
  });

  it('writes and reads an optional block longer than 255 characters in the extended form', () => {
    const header = { ...baseHeader('D'), optionalBlocks: [{ id: 'KS', data: 'A'.repeat(300) }] };
    const keyBlock = wrapKeyBlock({
      kbpk: new Uint8Array(32),
      key: new Uint8Array(16).fill(7),
      header,
      random: counting(),
    });
    // 10 characters of block header and 300 of data: 310 = 0x0136.
    expect(keyBlock.slice(16, 26)).toBe('KS00020136');
    const opened = unwrapKeyBlock({ kbpk: new Uint8Array(32), keyBlock });
    expect(opened.header.optionalBlocks[0]).toEqual({ id: 'KS', data: 'A'.repeat(300) });
    expect(opened.header.optionalBlocks[1]?.id).toBe('PB');
  });

  it('refuses non-hexadecimal or lower-case key data, and wrong KBPK lengths', () => {
    expect(unwrapCode(validB.slice(0, -1) + 'a')).toBe('ERR_TR31_ENCODING');
    expect(unwrapCode(validB, new Uint8Array(8))).toBe('ERR_TR31_KBPK');
    expect(unwrapCode(validB, new Uint8Array(32))).toBe('ERR_TR31_KBPK');
    const d =
      'D0112P0AE00E0000B82679114F470F540165EDFBF7E250FCEA43F810D215F8D207E2E417C07156A27E8E31DA05F7425509593D03A457DC34';
    expect(unwrapCode(d, new Uint8Array(8))).toBe('ERR_TR31_KBPK');
  });

  it('refuses keys, KBPKs and random sources that wrap cannot use', () => {
    const wrap = (input: Partial<Parameters<typeof wrapKeyBlock>[0]>) =>
      keyBlockError(() =>
        wrapKeyBlock({
          kbpk: kbpkB,
          key: new Uint8Array(16),
          header: baseHeader('B'),
          random: counting(),
          ...input,
        }),
      ).code;
    expect(wrap({ key: new Uint8Array(24) })).toBe('ERR_TR31_KEY');
    expect(wrap({ key: new Uint8Array(0) })).toBe('ERR_TR31_KEY');
    expect(wrap({ maskedKeyLength: 8 })).toBe('ERR_TR31_KEY');
    expect(wrap({ kbpk: new Uint8Array(32) })).toBe('ERR_TR31_KBPK');
    expect(wrap({ random: () => new Uint8Array(1) })).toBe('ERR_TR31_RANDOM');
    expect(wrap({ header: { ...baseHeader('B'), keyUsage: 'p0' } })).toBe('ERR_TR31_HEADER');
    expect(wrap({ header: { ...baseHeader('B'), optionalBlocks: [{ id: 'KS', data: '\n' }] } })).toBe(
      'ERR_TR31_OPTIONAL_BLOCK',
    );
    expect(wrap({ header: { ...baseHeader('B'), version: 'X' as 'B' } })).toBe('ERR_TR31_VERSION');
    expect(wrap({ maskedKeyLength: 5000 })).toBe('ERR_TR31_LENGTH');
  });

  it('reports an authenticated key length field that does not fit as ERR_TR31_KEY_LENGTH', () => {
    // Build a version D block by hand whose key length field claims more bytes than there are.
    const kbpk = new Uint8Array(16).fill(0x11);
    const headerText = formatKeyBlockHeader(baseHeader('D'), 16 + 64 + 32);
    const keyData = new Uint8Array(32);
    keyData.set([0x01, 0x08]); // 264 bits: 33 bytes, more than the 30 that follow
    const keys = deriveKeyBlockKeys('D', kbpk);
    const headerBytes = Uint8Array.from(headerText, (c) => c.charCodeAt(0));
    const joined = new Uint8Array(headerBytes.length + keyData.length);
    joined.set(headerBytes);
    joined.set(keyData, headerBytes.length);
    const mac = cmac('aes', keys.authenticationKey, joined);
    const keyBlock = headerText + toHex(encryptCbc('aes', keys.encryptionKey, keyData, mac)) + toHex(mac);
    expect(unwrapCode(keyBlock, kbpk)).toBe('ERR_TR31_KEY_LENGTH');
  });

  it('never names the key or the KBPK in a message', () => {
    const key = fromHex('F039121BEC83D26B169BDCD5B22AAF8F');
    const keyBlock = wrapKeyBlock({ kbpk: kbpkB, key, header: baseHeader('B'), random: counting() });
    const messages = [
      keyBlockError(() => unwrapKeyBlock({ kbpk: kbpkB.slice(0, 8), keyBlock })).message,
      keyBlockError(() => unwrapKeyBlock({ kbpk: new Uint8Array(16), keyBlock })).message,
      keyBlockError(() =>
        wrapKeyBlock({
          kbpk: kbpkB,
          key: new Uint8Array(24).fill(0xf0),
          header: baseHeader('B'),
          random: counting(),
        }),
      ).message,
    ];
    for (const message of messages) {
      expect(message).not.toMatch(/F039121B|89E88CF7|F0F0F0/i);
    }
  });
});
