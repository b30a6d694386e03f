import { fromHex, toHex } from '@amulet/bytes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CryptoError, encryptEcb } from '../src/cipher/index.ts';
import {
  aes128EncryptBlock,
  aes128KeySchedule,
  desDecryptBlock,
  desEncryptBlock,
  desKeySchedule,
  tripleDesDecryptBlock,
  tripleDesEncryptBlock,
  tripleDesKeySchedule,
} from '../src/fast/index.ts';

const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
const RUNS = { numRuns: 5_000 };

describe('table-driven DES (FIPS 46-3)', () => {
  it('gives the classic example: key 0123456789ABCDEF, "Now is t" -> 3FA40E8A984D4815', () => {
    const schedule = desKeySchedule(fromHex('0123456789ABCDEF'));
    const block = fromHex('4E6F772069732074');
    desEncryptBlock(schedule, block);
    expect(toHex(block)).toBe('3FA40E8A984D4815');
    desDecryptBlock(schedule, block);
    expect(toHex(block)).toBe('4E6F772069732074');
  });

  it('equals node:crypto single DES on random keys and blocks, and decrypts back', () => {
    fc.assert(
      fc.property(bytes(8), bytes(8), (key, block) => {
        const schedule = desKeySchedule(key);
        const out = new Uint8Array(8);
        desEncryptBlock(schedule, block, out);
        expect(toHex(out)).toBe(toHex(encryptEcb('des', key, block)));
        desDecryptBlock(schedule, out);
        expect(toHex(out)).toBe(toHex(block));
      }),
      RUNS,
    );
  });

  it('equals node:crypto triple DES with double and triple length keys, and decrypts back', () => {
    fc.assert(
      fc.property(fc.oneof(bytes(16), bytes(24)), bytes(8), (key, block) => {
        const schedule = tripleDesKeySchedule(key);
        const out = new Uint8Array(8);
        tripleDesEncryptBlock(schedule, block, out);
        expect(toHex(out)).toBe(toHex(encryptEcb('tdes', key, block)));
        tripleDesDecryptBlock(schedule, out);
        expect(toHex(out)).toBe(toHex(block));
      }),
      RUNS,
    );
  });

  it('works at offsets inside larger buffers', () => {
    const key = fromHex('0123456789ABCDEFFEDCBA9876543210');
    const buffer = fromHex('00000011223344556677880000');
    tripleDesEncryptBlock(tripleDesKeySchedule(key), buffer, buffer, 3, 5);
    expect(toHex(buffer.subarray(5))).toBe(toHex(encryptEcb('tdes', key, fromHex('1122334455667788'))));
  });

  it('refuses wrong key lengths, short blocks and foreign schedules with CryptoError', () => {
    expect(() => desKeySchedule(new Uint8Array(16))).toThrow(CryptoError);
    expect(() => tripleDesKeySchedule(new Uint8Array(8))).toThrow(CryptoError);
    const schedule = desKeySchedule(new Uint8Array(8));
    expect(() => desEncryptBlock(schedule, new Uint8Array(7))).toThrow(CryptoError);
    expect(() => desEncryptBlock(schedule, new Uint8Array(8), new Uint8Array(8), 1)).toThrow(CryptoError);
    expect(() => tripleDesEncryptBlock(schedule, new Uint8Array(8))).toThrow(CryptoError);
  });
});

describe('table-driven AES-128 (FIPS 197)', () => {
  it('gives the FIPS 197 Appendix C.1 example', () => {
    const block = fromHex('00112233445566778899AABBCCDDEEFF');
    aes128EncryptBlock(aes128KeySchedule(fromHex('000102030405060708090A0B0C0D0E0F')), block);
    expect(toHex(block)).toBe('69C4E0D86A7B0430D8CDB78070B4C55A');
  });

  it('gives the FIPS 197 Appendix A.1 expanded key (last round key)', () => {
    const schedule = aes128KeySchedule(fromHex('2B7E151628AED2A6ABF7158809CF4F3C'));
    const last = Array.from(schedule.subarray(40), (word) => (word >>> 0).toString(16).padStart(8, '0'));
    expect(last.join('')).toBe('d014f9a8c9ee2589e13f0cc8b6630ca6');
  });

  it('equals node:crypto AES-128-ECB on random keys and blocks', () => {
    fc.assert(
      fc.property(bytes(16), bytes(16), (key, block) => {
        const out = new Uint8Array(16);
        aes128EncryptBlock(aes128KeySchedule(key), block, out);
        expect(toHex(out)).toBe(toHex(encryptEcb('aes', key, block)));
      }),
      RUNS,
    );
  });

  it('refuses other key lengths and short blocks with CryptoError', () => {
    expect(() => aes128KeySchedule(new Uint8Array(24))).toThrow(CryptoError);
    expect(() => aes128EncryptBlock(aes128KeySchedule(new Uint8Array(16)), new Uint8Array(15))).toThrow(
      CryptoError,
    );
  });
});
