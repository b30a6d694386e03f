import { createCipheriv, createDecipheriv } from 'node:crypto';
import { concat, constantTimeEqual } from '@amulet/bytes';
import { cmac } from '@amulet/emv';
import { SecureElementError } from './secure-element-error.ts';

/**
 * GlobalPlatform Secure Channel Protocol 03, card side (GlobalPlatform Card Specification
 * Amendment D v1.1), in S8 mode with a pseudo-random card challenge (i = 70).
 */

/** Derivation constants (Amendment D §6.2.2, table 6-1). */
export const Scp03Constant = {
  CARD_CRYPTOGRAM: 0x00,
  HOST_CRYPTOGRAM: 0x01,
  CARD_CHALLENGE: 0x02,
  S_ENC: 0x04,
  S_MAC: 0x06,
  S_RMAC: 0x07,
} as const;

/**
 * The SCP03 key derivation function (Amendment D §4.1.5): NIST SP 800-108 in counter mode with
 * AES-CMAC as PRF. Input per block: 11 zero bytes || constant || 00 || L (2 bytes, bits) || i || context.
 */
export function scp03Kdf(key: Uint8Array, constant: number, bits: number, context: Uint8Array): Uint8Array {
  const blocks = Math.ceil(bits / 128);
  const out = new Uint8Array(blocks * 16);
  for (let i = 1; i <= blocks; i++) {
    const input = new Uint8Array(16 + context.length);
    input[11] = constant;
    input[13] = (bits >> 8) & 0xff;
    input[14] = bits & 0xff;
    input[15] = i;
    input.set(context, 16);
    out.set(cmac('aes', key, input), (i - 1) * 16);
  }
  return out.slice(0, bits / 8);
}

export interface Scp03Keys {
  readonly enc: Uint8Array;
  readonly mac: Uint8Array;
  readonly dek: Uint8Array;
}

export interface Scp03SessionKeys {
  readonly sEnc: Uint8Array;
  readonly sMac: Uint8Array;
  readonly sRmac: Uint8Array;
}

/** Session keys from the static keys and both challenges (Amendment D §6.2.1). */
export function scp03SessionKeys(keys: Scp03Keys, hostChallenge: Uint8Array, cardChallenge: Uint8Array) {
  const context = concat(hostChallenge, cardChallenge);
  const bits = keys.enc.length * 8;
  return {
    sEnc: scp03Kdf(keys.enc, Scp03Constant.S_ENC, bits, context),
    sMac: scp03Kdf(keys.mac, Scp03Constant.S_MAC, bits, context),
    sRmac: scp03Kdf(keys.mac, Scp03Constant.S_RMAC, bits, context),
  } satisfies Scp03SessionKeys;
}

function aesCbc(encrypt: boolean, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const name = `aes-${key.length * 8}-cbc`;
  const cipher = encrypt ? createCipheriv(name, key, iv) : createDecipheriv(name, key, iv);
  cipher.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([cipher.update(data), cipher.final()]));
}

/** ISO/IEC 9797-1 padding method 2 to a multiple of 16 bytes: always at least the 80 byte. */
function pad(data: Uint8Array): Uint8Array {
  const out = new Uint8Array((Math.floor(data.length / 16) + 1) * 16);
  out.set(data);
  out[data.length] = 0x80;
  return out;
}

function unpad(data: Uint8Array): Uint8Array | undefined {
  let i = data.length - 1;
  while (i >= 0 && data[i] === 0) i--;
  return i >= 0 && data[i] === 0x80 ? data.slice(0, i) : undefined;
}

export class Scp03Error extends SecureElementError {}

/** Security level (Amendment D §5.1): b1 C-MAC, b2 C-DECRYPTION, b5 R-MAC, b6 R-ENCRYPTION. */
export const SecurityLevel = { C_MAC: 0x01, C_DEC: 0x02, R_MAC: 0x10, R_ENC: 0x20 } as const;

/**
 * One card-side secure channel session: INITIALIZE UPDATE, EXTERNAL AUTHENTICATE, then
 * unwrapping each command and wrapping each response. Any failure closes the session.
 */
export class Scp03CardSession {
  readonly #keys: Scp03Keys;
  readonly #kvn: number;
  #session: Scp03SessionKeys | undefined;
  #hostChallenge: Uint8Array = new Uint8Array(0);
  #cardChallenge: Uint8Array = new Uint8Array(0);
  #chaining: Uint8Array = new Uint8Array(16);
  #counter = 0;
  #level = 0;
  #authenticated = false;

  constructor(keys: Scp03Keys, kvn: number) {
    this.#keys = keys;
    this.#kvn = kvn;
  }

  get securityLevel(): number {
    return this.#authenticated ? this.#level : 0;
  }

  /**
   * INITIALIZE UPDATE (Amendment D §7.1.1): the response data for a host challenge, with the
   * sequence counter the card has already incremented and the AID of the security domain.
   */
  initializeUpdate(hostChallenge: Uint8Array, sequenceCounter: number, aid: Uint8Array): Uint8Array {
    if (hostChallenge.length !== 8)
      throw new Scp03Error('ERR_SCP03_CHALLENGE', 'host challenge must be 8 bytes');
    const counter = new Uint8Array([
      (sequenceCounter >> 16) & 0xff,
      (sequenceCounter >> 8) & 0xff,
      sequenceCounter & 0xff,
    ]);
    // §6.2.2.1: pseudo-random card challenge from the sequence counter and the AID.
    this.#cardChallenge = scp03Kdf(this.#keys.enc, Scp03Constant.CARD_CHALLENGE, 64, concat(counter, aid));
    this.#hostChallenge = hostChallenge.slice();
    this.#session = scp03SessionKeys(this.#keys, this.#hostChallenge, this.#cardChallenge);
    this.#authenticated = false;
    this.#chaining = new Uint8Array(16);
    this.#counter = 0;
    const cryptogram = scp03Kdf(
      this.#session.sMac,
      Scp03Constant.CARD_CRYPTOGRAM,
      64,
      concat(this.#hostChallenge, this.#cardChallenge),
    );
    return concat(
      new Uint8Array(10),
      new Uint8Array([this.#kvn, 0x03, 0x70]),
      this.#cardChallenge,
      cryptogram,
      counter,
    );
  }

  /** EXTERNAL AUTHENTICATE (Amendment D §7.1.2): checks the host cryptogram and the C-MAC. */
  externalAuthenticate(apdu: Uint8Array): void {
    const session = this.#session;
    this.#session = undefined;
    if (session === undefined) throw new Scp03Error('ERR_SCP03_STATE', 'no INITIALIZE UPDATE before');
    if (apdu.length !== 21 || apdu[0] !== 0x84 || apdu[1] !== 0x82 || apdu[3] !== 0x00 || apdu[4] !== 0x10)
      throw new Scp03Error('ERR_SCP03_FORMAT', 'EXTERNAL AUTHENTICATE is malformed');
    const level = apdu[2] ?? 0;
    if (![0x01, 0x03, 0x11, 0x13, 0x33].includes(level))
      throw new Scp03Error('ERR_SCP03_LEVEL', 'unsupported security level');
    const expected = scp03Kdf(
      session.sMac,
      Scp03Constant.HOST_CRYPTOGRAM,
      64,
      concat(this.#hostChallenge, this.#cardChallenge),
    );
    const mac = cmac('aes', session.sMac, concat(new Uint8Array(16), apdu.subarray(0, 13)));
    if (
      !constantTimeEqual(expected, apdu.subarray(5, 13)) ||
      !constantTimeEqual(mac.subarray(0, 8), apdu.subarray(13))
    )
      throw new Scp03Error('ERR_SCP03_AUTH', 'host authentication failed');
    this.#session = session;
    this.#chaining = mac;
    this.#level = level;
    this.#counter = 1;
    this.#authenticated = true;
  }

  /**
   * Opens a session whose keys were agreed by another protocol (SCP11, GlobalPlatform Amendment F
   * section 6.5.2.3): secure messaging as in SCP03, with the MAC chaining value starting at the
   * receipt and the encryption counter at 1.
   */
  static established(keys: Scp03SessionKeys, chaining: Uint8Array, level: number): Scp03CardSession {
    const session = new Scp03CardSession({ enc: keys.sEnc, mac: keys.sMac, dek: new Uint8Array(0) }, 0);
    session.#session = keys;
    session.#chaining = chaining.slice();
    session.#level = level;
    session.#counter = 1;
    session.#authenticated = true;
    return session;
  }

  #fail(code: string, message: string): never {
    this.#authenticated = false;
    this.#session = undefined;
    throw new Scp03Error(code, message);
  }

  /**
   * Checks and strips a command's C-MAC and, at C-DECRYPTION, decrypts its data (Amendment D
   * §6.2.4, §6.2.6). Returns the plain APDU with CLA b3 cleared. A command below the session's
   * level, a wrong MAC or bad padding closes the session.
   */
  unwrapCommand(apdu: Uint8Array): Uint8Array {
    const session = this.#session;
    if (!this.#authenticated || session === undefined) this.#fail('ERR_SCP03_STATE', 'no secure channel');
    if (apdu.length < 5 || ((apdu[0] ?? 0) & 0x04) === 0)
      this.#fail('ERR_SCP03_LEVEL', 'command is not C-MAC protected');
    const lc = apdu[4] ?? 0;
    if (lc < 8 || apdu.length < 5 + lc) this.#fail('ERR_SCP03_FORMAT', 'secured command is too short');
    const le = apdu.subarray(5 + lc);
    if (le.length > 1) this.#fail('ERR_SCP03_FORMAT', 'secured command has a bad length');
    const macInput = concat(this.#chaining, apdu.subarray(0, 5 + lc - 8));
    const mac = cmac('aes', session.sMac, macInput);
    if (!constantTimeEqual(mac.subarray(0, 8), apdu.subarray(5 + lc - 8, 5 + lc)))
      this.#fail('ERR_SCP03_MAC', 'command MAC is wrong');
    this.#chaining = mac;
    let data: Uint8Array = apdu.slice(5, 5 + lc - 8);
    if ((this.#level & SecurityLevel.C_DEC) !== 0 && data.length > 0) {
      if (data.length % 16 !== 0) this.#fail('ERR_SCP03_FORMAT', 'encrypted data is not whole blocks');
      const plain = unpad(aesCbc(false, session.sEnc, this.#icv(0x00), data));
      if (plain === undefined) this.#fail('ERR_SCP03_PADDING', 'decrypted data has bad padding');
      data = plain;
    }
    this.#lastCounter = this.#counter;
    this.#counter += 1;
    const header = new Uint8Array([(apdu[0] ?? 0) & ~0x04, apdu[1] ?? 0, apdu[2] ?? 0, apdu[3] ?? 0]);
    return data.length === 0 ? concat(header, le) : concat(header, new Uint8Array([data.length]), data, le);
  }

  #lastCounter = 0;

  #icv(prefix: number, counter = this.#counter): Uint8Array {
    const block = new Uint8Array(16);
    block[0] = prefix;
    for (let i = 0, n = counter; i < 8; i++, n = Math.floor(n / 256)) block[15 - i] = n & 0xff;
    const cipher = createCipheriv(
      `aes-${(this.#session?.sEnc.length ?? 16) * 8}-ecb`,
      this.#session?.sEnc ?? new Uint8Array(16),
      null,
    );
    cipher.setAutoPadding(false);
    return new Uint8Array(Buffer.concat([cipher.update(block), cipher.final()]));
  }

  /** R-ENCRYPTION then R-MAC of the response to the last unwrapped command (Amendment D §6.2.5, §6.2.7). */
  wrapResponse(data: Uint8Array, sw: number): Uint8Array {
    const session = this.#session;
    if (!this.#authenticated || session === undefined) return data;
    let body = data;
    if ((this.#level & SecurityLevel.R_ENC) !== 0 && data.length > 0)
      body = aesCbc(true, session.sEnc, this.#icv(0x80, this.#lastCounter), pad(data));
    if ((this.#level & SecurityLevel.R_MAC) === 0) return body;
    const rmac = cmac(
      'aes',
      session.sRmac,
      concat(this.#chaining, body, new Uint8Array([sw >> 8, sw & 0xff])),
      8,
    );
    return concat(body, rmac);
  }
}
