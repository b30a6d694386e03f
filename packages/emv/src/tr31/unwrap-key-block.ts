import { concat, constantTimeEqual, fromHex } from '@amulet/bytes';
import { decryptCbc } from '../cipher/index.ts';
import { cmac, macIso9797Algorithm1 } from '../mac/index.ts';
import { checkKbpk } from './check-kbpk.ts';
import { deriveKeyBlockKeys } from './derive-key-block-keys.ts';
import { KeyBlockError, keyBlockMacError } from './key-block-error.ts';
import type { KeyBlockHeader } from './key-block-header.ts';
import { versionParameters } from './key-block-header.ts';
import { asciiBytes } from './key-block-text.ts';
import { readKeyBlockHeader } from './parse-key-block-header.ts';

export interface UnwrapKeyBlockInput {
  readonly kbpk: Uint8Array;
  readonly keyBlock: string;
}

export interface UnwrappedKey {
  readonly key: Uint8Array;
  readonly header: KeyBlockHeader;
}

const UPPER_HEX = /^[0-9A-F]*$/;

/**
 * Checks and opens a key block of version A, B, C or D: header and optional blocks, the length
 * field against the text, the KBPK, then the MAC (one fixed `ERR_TR31_MAC` on any mismatch),
 * and last the key length field inside the authenticated key data.
 */
export function unwrapKeyBlock(input: UnwrapKeyBlockInput): UnwrappedKey {
  const text = input?.keyBlock;
  const { header, declaredLength, headerLength } = readKeyBlockHeader(text);
  if (declaredLength !== text.length) {
    throw new KeyBlockError(
      'ERR_TR31_LENGTH',
      `key block length field says ${declaredLength} characters, the key block has ${text.length}`,
      {
        offset: 1,
      },
    );
  }
  const parameters = versionParameters(header.version);
  const kbpk = checkKbpk(input.kbpk, parameters);
  const body = text.slice(headerLength);
  if (!UPPER_HEX.test(body)) {
    throw new KeyBlockError(
      'ERR_TR31_ENCODING',
      'key block key data and MAC must be upper-case hexadecimal',
      {
        offset: headerLength,
      },
    );
  }
  const macDigits = 2 * parameters.macLength;
  const dataDigits = body.length - macDigits;
  if (dataDigits <= 0 || dataDigits % (2 * parameters.blockSize) !== 0) {
    throw new KeyBlockError(
      'ERR_TR31_LENGTH',
      `key block key data must be a whole number of ${parameters.blockSize}-byte blocks`,
      { offset: headerLength },
    );
  }
  const enciphered = fromHex(body.slice(0, dataDigits));
  const mac = fromHex(body.slice(dataDigits));
  const headerBytes = asciiBytes(text.slice(0, headerLength));
  const keys = deriveKeyBlockKeys(header.version, kbpk);
  let keyData: Uint8Array;
  if (parameters.binding === 'variant') {
    // Versions A and C: CBC-MAC (ISO 9797-1 algorithm 1) over header | enciphered key data, its
    // leftmost 4 bytes; the key data is enciphered with the first 8 header bytes as the IV.
    const expected = macIso9797Algorithm1(keys.authenticationKey, concat(headerBytes, enciphered), 1);
    if (!constantTimeEqual(expected.subarray(0, parameters.macLength), mac)) throw keyBlockMacError();
    keyData = decryptCbc('tdes', keys.encryptionKey, enciphered, headerBytes.subarray(0, 8));
  } else {
    // Versions B and D: the MAC is the IV, and a CMAC over header | clear key data.
    keyData = decryptCbc(parameters.cipher, keys.encryptionKey, enciphered, mac);
    const expected = cmac(parameters.cipher, keys.authenticationKey, concat(headerBytes, keyData));
    if (!constantTimeEqual(expected, mac)) throw keyBlockMacError();
  }
  const bits = (keyData[0]! << 8) | keyData[1]!;
  if (bits === 0 || bits % 8 !== 0 || bits / 8 > keyData.length - 2) {
    throw new KeyBlockError('ERR_TR31_KEY_LENGTH', 'key block key length field does not fit its key data');
  }
  return { key: keyData.slice(2, 2 + bits / 8), header };
}
