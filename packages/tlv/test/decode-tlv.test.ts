import { fromHex, toHex } from '@amulet/bytes';
import { describe, expect, it } from 'vitest';
import { decodeTlv, encodeTlv, findTag, TlvError, type TlvNode } from '../src/index.ts';

function errorOf(run: () => unknown): TlvError {
  try {
    run();
  } catch (error) {
    if (error instanceof TlvError) return error;
    throw error;
  }
  throw new Error('expected a TlvError');
}

const decodeHex = (hex: string, options = {}) => decodeTlv(fromHex(hex), options);

describe('decodeTlv: strict policy', () => {
  it('decodes a PPSE response into a tree by the constructed bit', () => {
    const nodes = decodeHex('6F1E840E325041592E5359532E4444463031A50CBF0C0961074F05A000000004');
    expect(nodes).toHaveLength(1);
    expect(findTag(nodes, '4f')?.value).toEqual(fromHex('A000000004'));
    expect(findTag(nodes, 'BF0C')?.children).toHaveLength(1);
    expect(findTag(nodes, '9F26')).toBeUndefined();
  });

  it('treats b6 of the first tag byte as the only constructed marker', () => {
    // 9F is primitive (b6 = 0) even though it looks like a template tag; BF0C is constructed.
    expect(decodeHex('9F1003010203')[0]).toEqual({ tag: '9F10', value: fromHex('010203') });
    expect(decodeHex('BF0C00')[0]).toEqual({ tag: 'BF0C', children: [] });
  });

  it('reads multi-byte tags up to 4 bytes and refuses a fifth', () => {
    expect(decodeHex('DF81290100')[0]?.tag).toBe('DF8129');
    expect(decodeHex('DF8181010100')[0]?.tag).toBe('DF818101');
    const error = errorOf(() => decodeHex('9C00DF818181010100'));
    expect(error.code).toBe('ERR_TLV_TAG');
    expect(error.offset).toBe(2);
    expect(error.path).toEqual(['DF81818101']);
  });

  it('reads long-form lengths of 1 to 4 bytes and refuses 5', () => {
    const value = new Uint8Array(300).fill(7);
    expect(decodeHex(`9F1082012C${toHex(value)}`)[0]?.value).toEqual(value);
    const big = decodeHex(`9C83010000${'AA'.repeat(65_536)}`, { maxLength: 65_536 });
    expect(big[0]?.value?.length).toBe(65_536);
    const four = errorOf(() => decodeHex('9C8401000000', { maxLength: 2 ** 25 }));
    expect([four.code, four.offset]).toEqual(['ERR_TLV_TRUNCATED', 6]);
    const five = errorOf(() => decodeHex('9C850000000001FF'));
    expect([five.code, five.offset]).toEqual(['ERR_TLV_LENGTH', 1]);
  });

  it('refuses the indefinite length 80 and every non-minimal length, naming the offset', () => {
    for (const [hex, offset] of [
      ['9C80', 1],
      ['9C8101FF', 1],
      ['9C817F', 1],
      ['9C820080', 1],
      ['9F02820006000000000100', 2],
      ['700A9F028106000000000001', 4],
    ] as const) {
      const error = errorOf(() => decodeHex(hex));
      expect(error.code).toBe(hex === '9C80' ? 'ERR_TLV_LENGTH' : 'ERR_TLV_NON_MINIMAL_LENGTH');
      expect(error.offset).toBe(offset);
    }
    expect(decodeHex(`9C8180${'00'.repeat(128)}`)[0]?.value?.length).toBe(128);
  });

  it('enforces maxLength before reading the value', () => {
    const error = errorOf(() => decodeHex(`9C81FF${'00'.repeat(255)}`, { maxLength: 254 }));
    expect([error.code, error.offset]).toEqual(['ERR_TLV_LENGTH', 1]);
    expect(decodeHex('9C00', { maxLength: 0 })).toHaveLength(1);
    expect(() => decodeHex('9C0101', { maxLength: 0 })).toThrow(TlvError);
  });

  it('enforces the nesting limit (default 8)', () => {
    const nest = (levels: number): TlvNode =>
      levels === 1 ? { tag: '9C', value: fromHex('01') } : { tag: '70', children: [nest(levels - 1)] };
    expect(() => decodeTlv(encodeTlv([nest(8)]))).not.toThrow();
    const error = errorOf(() => decodeTlv(encodeTlv([nest(9)])));
    expect(error.code).toBe('ERR_TLV_DEPTH');
    expect(error.path).toEqual(['70', '70', '70', '70', '70', '70', '70', '70']);
    expect(error.offset).toBe(14);
    expect(errorOf(() => decodeTlv(encodeTlv([nest(3)]), { maxDepth: 2 })).code).toBe('ERR_TLV_DEPTH');
  });

  it('carries the tag path of the object being read', () => {
    const error = errorOf(() => decodeHex('7008570612345678'));
    expect(error.code).toBe('ERR_TLV_TRUNCATED');
    expect(error.path).toEqual(['70']);
    const inner = errorOf(() => decodeHex('70045703123456'));
    expect(inner.path).toEqual(['70', '57']);
    expect(inner.offset).toBe(4);
    expect(inner.message).toContain('offset 4');
    expect(inner.message).toContain('70 > 57');
  });

  it('skips 00 padding anywhere between objects and an FF run to the end', () => {
    expect(decodeHex('00009C01FF00700400009C0000FFFF')).toEqual([
      { tag: '9C', value: fromHex('FF') },
      { tag: '70', children: [{ tag: '9C', value: new Uint8Array(0) }] },
    ]);
    // FF that does not run to the end starts a private-class tag.
    expect(decodeHex('FF8105039C0100')[0]).toEqual({
      tag: 'FF8105',
      children: [{ tag: '9C', value: fromHex('00') }],
    });
  });

  it('refuses padding when allowTrailingPadding is false', () => {
    const zero = errorOf(() => decodeHex('9C010100', { allowTrailingPadding: false }));
    expect([zero.code, zero.offset]).toEqual(['ERR_TLV_TAG', 3]);
    const ff = errorOf(() => decodeHex('9C0101FF', { allowTrailingPadding: false }));
    expect([ff.code, ff.offset]).toEqual(['ERR_TLV_TRUNCATED', 3]);
  });

  it('keeps opaque tags as values and encodes them back unchanged', () => {
    const hex = 'FF810503A10102';
    expect(() => decodeHex(hex)).toThrow(TlvError);
    const nodes = decodeHex(hex, { opaqueTags: ['ff8105'] });
    expect(nodes).toEqual([{ tag: 'FF8105', value: fromHex('A10102') }]);
    expect(toHex(encodeTlv(nodes))).toBe(hex);
  });

  it('returns copies, not views of the input', () => {
    const input = fromHex('9C01AA');
    const value = decodeTlv(input)[0]!.value!;
    input[2] = 0xbb;
    expect(value).toEqual(fromHex('AA'));
  });

  it('rejects input that is not a Uint8Array and bad options with typed errors', () => {
    expect(errorOf(() => decodeTlv('9C00' as unknown as Uint8Array)).code).toBe('ERR_TLV_INPUT');
    expect(errorOf(() => decodeHex('9C00', { maxDepth: 0 })).code).toBe('ERR_TLV_INPUT');
  });
});

describe('encodeTlv', () => {
  it('writes shortest lengths and refuses inconsistent nodes', () => {
    expect(toHex(encodeTlv([{ tag: '9C', value: new Uint8Array(128) }])).slice(0, 6)).toBe('9C8180');
    expect(toHex(encodeTlv([{ tag: '70' }, { tag: '9C' }]))).toBe('70009C00');
    for (const [node, code] of [
      [{ tag: '9C', children: [] }, 'ERR_TLV_NODE'],
      [{ tag: '70', value: new Uint8Array(0), children: [] }, 'ERR_TLV_NODE'],
      [{ tag: '9F' }, 'ERR_TLV_TAG'],
      [{ tag: '9F8080' }, 'ERR_TLV_TAG'],
      [{ tag: '5F0102' }, 'ERR_TLV_TAG'],
      [{ tag: '00' }, 'ERR_TLV_TAG'],
      [{ tag: 'DF81818101' }, 'ERR_TLV_TAG'],
      [{ tag: 'XY' }, 'ERR_TLV_TAG'],
      [{ tag: '9C', value: [1, 2] }, 'ERR_TLV_NODE'],
    ] as const) {
      expect(errorOf(() => encodeTlv([node as unknown as TlvNode])).code).toBe(code);
    }
  });

  it('names the path of a bad nested node', () => {
    const error = errorOf(() => encodeTlv([{ tag: '70', children: [{ tag: '57', children: [] }] }]));
    expect(error.path).toEqual(['70', '57']);
  });
});
