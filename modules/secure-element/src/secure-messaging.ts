import { createCipheriv, createDecipheriv } from 'node:crypto';
import { concat, constantTimeEqual } from '@amulet/bytes';
import { cmac } from '@amulet/emv';
import type { Scp03SessionKeys } from './scp03.ts';
import { SecurityLevel } from './scp03.ts';
import { SecureElementError } from './secure-element-error.ts';

/**
 * The off-card side of SCP03 secure messaging (GlobalPlatform Card Specification Amendment D
 * v1.1 sections 6.2.4 to 6.2.7), which SCP11 reuses as it is (Amendment F section 6.6). It wraps
 * each command (C-DECRYPTION then C-MAC) and unwraps each response (R-MAC then R-ENCRYPTION).
 * Every check failure throws the same `ERR_SE_CHANNEL` and ends the channel.
 */
export class Scp03HostChannel {
  readonly #keys: Scp03SessionKeys;
  readonly #level: number;
  #chaining: Uint8Array;
  #counter = 1;
  #lastCounter = 0;
  #open = true;

  /** `chaining` is the MAC chaining value after authentication: EXTERNAL AUTHENTICATE's C-MAC, or SCP11's receipt. */
  constructor(keys: Scp03SessionKeys, chaining: Uint8Array, level: number) {
    this.#keys = keys;
    this.#chaining = chaining.slice();
    this.#level = level;
  }

  get open(): boolean {
    return this.#open;
  }

  #fail(): never {
    this.#open = false;
    throw new SecureElementError('ERR_SE_CHANNEL', 'the secure channel failed');
  }

  #icv(prefix: number, counter: number): Uint8Array {
    const block = new Uint8Array(16);
    block[0] = prefix;
    for (let i = 0, n = counter; i < 8; i++, n = Math.floor(n / 256)) block[15 - i] = n & 0xff;
    const cipher = createCipheriv(`aes-${this.#keys.sEnc.length * 8}-ecb`, this.#keys.sEnc, null);
    cipher.setAutoPadding(false);
    return new Uint8Array(Buffer.concat([cipher.update(block), cipher.final()]));
  }

  /**
   * Wraps a short command APDU (cases 1 to 4): sets CLA b3, encrypts the data at C-DECRYPTION
   * (ISO/IEC 9797-1 padding method 2, AES-CBC with ICV = E(S-ENC, counter)), appends the C-MAC
   * (AES-CMAC over the chaining value, the header with the new Lc and the data; 8 bytes).
   */
  wrapCommand(apdu: Uint8Array): Uint8Array {
    if (!this.#open) this.#fail();
    if (apdu.length < 4) throw new SecureElementError('ERR_SE_APDU', 'a command APDU has at least 4 bytes');
    let data: Uint8Array = new Uint8Array(0);
    let le: Uint8Array = new Uint8Array(0);
    if (apdu.length === 5) le = apdu.subarray(4);
    else if (apdu.length > 5) {
      const lc = apdu[4] ?? 0;
      if (lc === 0 || apdu.length < 5 + lc || apdu.length > 6 + lc)
        throw new SecureElementError('ERR_SE_APDU', 'only short APDUs can be wrapped');
      data = apdu.subarray(5, 5 + lc);
      le = apdu.subarray(5 + lc);
    }
    if ((this.#level & SecurityLevel.C_DEC) !== 0 && data.length > 0) {
      const cipher = createCipheriv(
        `aes-${this.#keys.sEnc.length * 8}-cbc`,
        this.#keys.sEnc,
        this.#icv(0x00, this.#counter),
      );
      cipher.setAutoPadding(false);
      data = new Uint8Array(Buffer.concat([cipher.update(pad16(data)), cipher.final()]));
    }
    if (data.length + 8 > 255) throw new SecureElementError('ERR_SE_APDU', 'the wrapped command is too long');
    this.#lastCounter = this.#counter;
    this.#counter += 1;
    const header = new Uint8Array([
      (apdu[0] ?? 0) | 0x04,
      apdu[1] ?? 0,
      apdu[2] ?? 0,
      apdu[3] ?? 0,
      data.length + 8,
    ]);
    this.#chaining = cmac('aes', this.#keys.sMac, concat(this.#chaining, header, data));
    return concat(header, data, this.#chaining.subarray(0, 8), le);
  }

  /**
   * Checks the R-MAC of a response's data (AES-CMAC with S-RMAC over the chaining value, the data
   * and the status word) and decrypts it at R-ENCRYPTION. Returns the plain response data.
   */
  unwrapResponse(data: Uint8Array, sw: number): Uint8Array {
    if (!this.#open) this.#fail();
    let body = data;
    if ((this.#level & SecurityLevel.R_MAC) !== 0) {
      if (data.length < 8) this.#fail();
      body = data.subarray(0, data.length - 8);
      const expected = cmac(
        'aes',
        this.#keys.sRmac,
        concat(this.#chaining, body, new Uint8Array([sw >> 8, sw & 0xff])),
        8,
      );
      if (!constantTimeEqual(expected, data.subarray(data.length - 8))) this.#fail();
    }
    if ((this.#level & SecurityLevel.R_ENC) !== 0 && body.length > 0) {
      if (body.length % 16 !== 0) this.#fail();
      const decipher = createDecipheriv(
        `aes-${this.#keys.sEnc.length * 8}-cbc`,
        this.#keys.sEnc,
        this.#icv(0x80, this.#lastCounter),
      );
      decipher.setAutoPadding(false);
      const plain = unpad16(new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()])));
      if (plain === undefined) this.#fail();
      return plain;
    }
    return body.slice();
  }
}

/** ISO/IEC 9797-1 padding method 2 to a multiple of 16 bytes (always adds the 80 byte). */
export function pad16(data: Uint8Array): Uint8Array {
  const out = new Uint8Array((Math.floor(data.length / 16) + 1) * 16);
  out.set(data);
  out[data.length] = 0x80;
  return out;
}

export function unpad16(data: Uint8Array): Uint8Array | undefined {
  let i = data.length - 1;
  while (i >= 0 && data[i] === 0) i--;
  return i >= 0 && data[i] === 0x80 ? data.slice(0, i) : undefined;
}
