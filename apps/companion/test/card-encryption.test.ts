import { compactDecrypt, exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { CompanionError, checkCardEntry, encryptCardData, networkOf } from '../src/index.ts';

describe('card data as JWE to the TSP', () => {
  it('encrypts with ECDH-ES+A256KW and A256GCM so that only the TSP key decrypts, and the JWE has no PAN', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ECDH-ES+A256KW', {
      crv: 'P-256',
      extractable: true,
    });
    const jwk = (await exportJWK(publicKey)) as Record<string, string>;
    const card = { pan: '4111111111111111', expiry: '2912', cvv: '737' };
    const jwe = await encryptCardData(card, jwk);
    expect(jwe.split('.')).toHaveLength(5);
    expect(jwe).not.toContain(card.pan);
    const header = JSON.parse(Buffer.from(jwe.split('.')[0]!, 'base64url').toString());
    expect(header).toMatchObject({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM' });
    const { plaintext } = await compactDecrypt(jwe, privateKey);
    expect(JSON.parse(new TextDecoder().decode(plaintext))).toEqual(card);
    const other = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256' });
    await expect(compactDecrypt(jwe, other.privateKey)).rejects.toThrow();
  });

  it('refuses a card that cannot be one, naming the field and never the value', () => {
    const cases = [
      { pan: '4111111111111112', expiry: '2912' },
      { pan: '41111111', expiry: '2912' },
      { pan: '4111111111111111', expiry: '2913' },
      { pan: '4111111111111111', expiry: '2912', cvv: '12' },
    ];
    for (const card of cases) {
      try {
        checkCardEntry(card);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(CompanionError);
        expect((error as Error).message).not.toContain(card.pan);
        expect((error as Error).message).not.toContain('4111');
      }
    }
    expect(networkOf('5500000000000004')).toBe('mastercard');
    expect(networkOf('4111111111111111')).toBe('visa');
    expect(networkOf('9999999999999995')).toBeUndefined();
  });
});
