import { KeyBlockError } from './key-block-error.ts';
import type { KeyBlockVersionParameters } from './key-block-header.ts';

/** Checks the key block protection key against the version: TDEA 16/24 bytes, or AES 16/24/32. */
export function checkKbpk(kbpk: unknown, parameters: KeyBlockVersionParameters): Uint8Array {
  if (!(kbpk instanceof Uint8Array) || !parameters.kbpkLengths.includes(kbpk.length)) {
    throw new KeyBlockError(
      'ERR_TR31_KBPK',
      `key block protection key must be a ${parameters.cipher === 'aes' ? 'AES' : 'TDEA'} key of ${parameters.kbpkLengths.join(', ')} bytes`,
    );
  }
  return kbpk;
}
