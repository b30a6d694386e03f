import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAmuletError } from '@amulet/bytes';
import { Field, interchangeCodec, interchangeSpec, TokenDataId } from '@amulet/contracts';
import { isLuhnValid } from '@amulet/emv';
import { type Hsm, SoftwareHsm } from '@amulet/hsm';
import { createMessage, type FieldValue } from '@amulet/iso8583';
import fc from 'fast-check';
import { CompactEncrypt, importJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  concatKdf,
  decryptCardJwe,
  idvDecisionOf,
  idvRequestMessage,
  idvTerminalId,
  jwePublicJwk,
  maskDigits,
  maskPan,
  newDpan,
  newPar,
  TokenServiceError,
} from '../src/index.ts';
import { testWorld } from './harness.ts';

let hsm: Hsm;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amulet-tsp-codec-'));
  hsm = await SoftwareHsm.open({ path: join(dir, 'k.json'), masterKey: new Uint8Array(randomBytes(32)) });
  await hsm.generateKey({ keyId: 'jwe', algorithm: 'ec-p256', usage: 'key-agreement' });
});
afterAll(async () => {
  await hsm.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('card JWE (RFC 7516 compact, ECDH-ES+A256KW / A256GCM)', () => {
  async function encrypt(plaintext: string, header: Record<string, unknown> = {}): Promise<string> {
    const key = await importJWK(await jwePublicJwk(hsm, 'jwe'), 'ECDH-ES+A256KW');
    return new CompactEncrypt(new TextEncoder().encode(plaintext))
      .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', ...header })
      .encrypt(key);
  }

  it('round-trips any card jose encrypts (with apu/apv), and decrypts with the key in the HSM', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 13, max: 19 }).chain((n) => fc.stringMatching(new RegExp(`^[0-9]{${n - 1}}$`))),
        fc.integer({ min: 0, max: 99 }),
        fc.integer({ min: 1, max: 12 }),
        fc.boolean(),
        async (body, yy, mm, withParties) => {
          let pan = '';
          for (let d = 0; d < 10 && pan === ''; d++) if (isLuhnValid(body + d)) pan = body + d;
          const expiry = `${String(yy).padStart(2, '0')}${String(mm).padStart(2, '0')}`;
          const header = withParties ? { apu: 'QWxpY2U', apv: 'Qm9i' } : {};
          const card = await decryptCardJwe(
            hsm,
            'jwe',
            await encrypt(JSON.stringify({ pan, expiry }), header),
          );
          expect(card).toEqual({ pan, expiry });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('never crashes: any text, or any change to a valid JWE, gives the one fixed error', async () => {
    const valid = await encrypt(JSON.stringify({ pan: '4761739001010010', expiry: '3012' }));
    const check = async (jwe: string) => {
      try {
        await decryptCardJwe(hsm, 'jwe', jwe);
        return 'decrypted';
      } catch (error) {
        expect(error).toBeInstanceOf(TokenServiceError);
        expect((error as TokenServiceError).code).toBe('ERR_TSP_CARD_DATA');
        expect((error as Error).message).toBe('the card data could not be decrypted');
        return 'refused';
      }
    };
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), async (s) => {
        expect(await check(s)).toBe('refused');
      }),
      {
        numRuns: 200,
      },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: valid.length - 1 }),
        fc.constantFrom('A', 'B', '_', '-', '.', '0'),
        async (at, c) => {
          const changed = valid.slice(0, at) + c + valid.slice(at + 1);
          const outcome = await check(changed);
          // A replaced character that leaves the bytes the same (base64url's last bits) may still decrypt.
          if (changed !== valid && outcome === 'decrypted')
            expect(Buffer.from(changed).length).toBe(valid.length);
        },
      ),
      { numRuns: 150 },
    );
    for (const header of [{ alg: 'ECDH-ES' }, { enc: 'A128GCM' }, { zip: 'DEF' }]) {
      const other = await encrypt('{"pan":"4761739001010010","expiry":"3012"}', {}).catch(() => '');
      const parts = other.split('.');
      const forged = Buffer.from(
        JSON.stringify({ ...JSON.parse(Buffer.from(parts[0]!, 'base64url').toString()), ...header }),
      ).toString('base64url');
      expect(await check([forged, ...parts.slice(1)].join('.'))).toBe('refused');
    }
    // A plaintext that is not a card is refused too.
    expect(await check(await encrypt('{"pan":"4761739001010011","expiry":"3012"}'))).toBe('refused');
    expect(await check(await encrypt('{"pan":"4761739001010010","expiry":"3013"}'))).toBe('refused');
  });

  it('Concat KDF gives 32 bytes that depend on Z, apu and apv', () => {
    const z = new Uint8Array(32).fill(7);
    const a = concatKdf(z, {});
    expect(a).toHaveLength(32);
    expect(concatKdf(z, { apu: 'QQ' }).equals(a)).toBe(false);
    expect(concatKdf(new Uint8Array(32).fill(8), {}).equals(a)).toBe(false);
  });
});

describe('ISO 8583 codec (contracts.interchangeCodec) and ID&V messages', () => {
  const digits = (n: number) => fc.stringMatching(new RegExp(`^[0-9]{${n}}$`));
  it('round-trips every ID&V request it builds, and reads decisions by field 39', () => {
    fc.assert(
      fc.property(
        digits(16),
        digits(4),
        digits(11),
        fc.stringMatching(/^[0-9a-f]{64}$/),
        fc.constantFrom('TAR' as const, 'OTP' as const),
        digits(6),
        (pan, expiry, trid, device, reason, stan) => {
          const message = idvRequestMessage(
            { pan, expiry, requestorTrid: trid, deviceId: device, reason, otp: '123456' },
            stan,
            new Date('2026-11-23T10:00:00Z'),
            '99990001',
          );
          const back = interchangeCodec.decode(interchangeCodec.encode(message));
          expect(back.mti).toBe('0100');
          expect([...back.fields]).toEqual([...message.fields]);
          // Every part of the issuer's transaction key is there (32, 41, 11, 7).
          expect(back.fields.get(Field.terminalId)).toBe(idvTerminalId);
          expect(interchangeCodec.requestKey(back)).toBe(interchangeCodec.requestKey(message));
        },
      ),
      { numRuns: 100 },
    );
    const answer = (code: string) =>
      createMessage(interchangeSpec, '0110', new Map<number, FieldValue>([[39, code]]));
    expect(idvDecisionOf(answer('00'), 'TAR')).toEqual({ decision: 'green' });
    expect(idvDecisionOf(answer('1A'), 'TAR')).toEqual({ decision: 'yellow' });
    expect(idvDecisionOf(answer('1A'), 'OTP')).toEqual({ decision: 'red', reason: '1A' });
    expect(idvDecisionOf(answer('05'), 'TAR')).toEqual({ decision: 'red', reason: '05' });
    expect(TokenDataId.otp).toBe('11');
  });

  it('never crashes: any bytes decode to a message or a typed error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        try {
          interchangeCodec.decode(bytes);
        } catch (error) {
          expect(isAmuletError(error)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('numbers and masking', () => {
  it('DPANs are Luhn-valid, inside the range, of the range length; PARs are 29 characters', () => {
    const world = testWorld('numbers');
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9_999_999 }),
        fc.integer({ min: 0, max: 99 }),
        fc.integer({ min: 13, max: 19 }),
        (low, span, length) => {
          const binLow = String(40_000_000 + low);
          const binHigh = String(40_000_000 + low + span);
          const dpan = newDpan(world, { binLow, binHigh, tokenLength: length });
          expect(dpan).toHaveLength(length);
          expect(isLuhnValid(dpan)).toBe(true);
          const bin = dpan.slice(0, 8);
          expect(bin >= binLow && bin <= binHigh).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
    expect(newPar(world, 'A1B2')).toMatch(/^A1B2[0-9A-Z]{25}$/);
  });

  it('masks every card number in a text to its first 6 and last 4 digits', () => {
    expect(maskPan('4761739001010010')).toBe('476173******0010');
    expect(maskDigits('card 5413330089010012 and 4761739001010010!')).toBe(
      'card 541333******0012 and 476173******0010!',
    );
    expect(maskDigits('stan 000123, amount 000000001234')).toBe('stan 000123, amount 000000**1234');
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{12,19}$/), fc.string({ maxLength: 20 }), (digits, text) => {
        const masked = maskDigits(`${text.replace(/[0-9]/g, '')} ${digits} ${text.replace(/[0-9]/g, '')}`);
        expect(masked).not.toContain(digits);
        expect(masked).toContain(digits.slice(0, 6));
      }),
    );
  });
});
