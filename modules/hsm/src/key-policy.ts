import type { KeyBlockHeader } from '@amulet/emv';
import type { KeyAlgorithm, KeyAttributes, KeyUsage } from './hsm.ts';
import { HsmError } from './hsm-error.ts';

const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

/** Key ids are labels: letters, digits and `._:/-`, at most 128 characters. */
export function checkKeyId(keyId: unknown): string {
  if (typeof keyId !== 'string' || !KEY_ID.test(keyId)) {
    throw new HsmError('ERR_HSM_KEY_ID', 'a key id is 1 to 128 letters, digits or ._:/- characters');
  }
  return keyId;
}

/** Which algorithms each usage allows. */
const USAGE_ALGORITHMS: Readonly<Record<KeyUsage, readonly KeyAlgorithm[]>> = {
  'imk-ac': ['tdes', 'aes'],
  'icc-mk-ac': ['tdes', 'aes'],
  kek: ['tdes', 'aes'],
  'data-key-wrap': ['aes'],
  mac: ['tdes', 'aes'],
  'pin-encryption': ['tdes', 'aes'],
  signing: ['ec-p256'],
  'key-agreement': ['ec-p256'],
};

export function checkKeyShape(algorithm: unknown, length: number, usage: unknown): void {
  if (typeof usage !== 'string' || !Object.hasOwn(USAGE_ALGORITHMS, usage)) {
    throw new HsmError('ERR_HSM_KEY_USAGE', 'unknown key usage');
  }
  if (!USAGE_ALGORITHMS[usage as KeyUsage].includes(algorithm as KeyAlgorithm)) {
    throw new HsmError(
      'ERR_HSM_KEY_ALGORITHM',
      `key usage ${usage} does not allow algorithm ${String(algorithm)}`,
    );
  }
  const lengths = algorithm === 'tdes' ? [16, 24] : algorithm === 'aes' ? [16, 24, 32] : [32];
  if (!lengths.includes(length)) {
    throw new HsmError('ERR_HSM_KEY_LENGTH', `a ${String(algorithm)} key is ${lengths.join(', ')} bytes`);
  }
}

/** The operation refuses a key of another usage (payment HSMs bind every key to one purpose). */
export function requireUsage(key: KeyAttributes, ...usages: readonly KeyUsage[]): void {
  if (!usages.includes(key.usage)) {
    throw new HsmError('ERR_HSM_KEY_USAGE', `key ${key.keyId} is not usable for this operation`);
  }
}

/**
 * TR-31 key usage and mode of use for each usage on export (ANSI X9.143 table 6 and 7): E0 EMV
 * application cryptograms (derive), K0 key encryption, D0 data encryption, M3/M6 ISO 9797-1
 * algorithm 3 / CMAC, P0 PIN encryption.
 */
export function keyBlockFields(key: KeyAttributes): {
  keyUsage: string;
  modeOfUse: string;
  algorithm: string;
} {
  const algorithm = key.algorithm === 'tdes' ? 'T' : 'A';
  switch (key.usage) {
    case 'imk-ac':
      return { keyUsage: 'E0', modeOfUse: 'X', algorithm };
    case 'icc-mk-ac':
      return { keyUsage: 'E0', modeOfUse: 'N', algorithm };
    case 'kek':
      return { keyUsage: 'K0', modeOfUse: 'B', algorithm };
    case 'data-key-wrap':
      return { keyUsage: 'D0', modeOfUse: 'B', algorithm };
    case 'mac':
      return { keyUsage: key.algorithm === 'tdes' ? 'M3' : 'M6', modeOfUse: 'C', algorithm };
    case 'pin-encryption':
      return { keyUsage: 'P0', modeOfUse: 'B', algorithm };
    default:
      throw new HsmError('ERR_HSM_EXPORT', `keys of usage ${key.usage} are not exported as key blocks`);
  }
}

/** The usage, algorithm and exportability a TR-31 header gives an imported key. */
export function attributesFromHeader(header: KeyBlockHeader): {
  usage: KeyUsage;
  algorithm: 'tdes' | 'aes';
  exportable: boolean;
} {
  let algorithm: 'tdes' | 'aes';
  if (header.algorithm === 'T') algorithm = 'tdes';
  else if (header.algorithm === 'A') algorithm = 'aes';
  else throw new HsmError('ERR_HSM_IMPORT', 'only TDEA (T) and AES (A) keys are imported from key blocks');
  let usage: KeyUsage;
  switch (header.keyUsage) {
    case 'E0':
      usage = header.modeOfUse === 'X' ? 'imk-ac' : 'icc-mk-ac';
      break;
    case 'K0':
    case 'K1':
      usage = 'kek';
      break;
    case 'D0':
      usage = 'data-key-wrap';
      break;
    case 'M1':
    case 'M3':
    case 'M5':
    case 'M6':
      usage = 'mac';
      break;
    case 'P0':
      usage = 'pin-encryption';
      break;
    default:
      throw new HsmError('ERR_HSM_IMPORT', `key usage ${header.keyUsage} has no HSM usage`);
  }
  return { usage, algorithm, exportable: header.exportability === 'E' };
}
