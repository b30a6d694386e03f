import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex } from '@amulet/bytes';
import { atomicWrite } from './atomic-write.ts';
import { RootOfTrustError } from './root-of-trust-error.ts';

export const MASTER_KEY_ENV = 'AMULET_MASTER_KEY';
export const MASTER_KEY_FILE = 'master.key';

export interface MasterKeySource {
  /** `--master-key-file`: a file holding 64 hex digits. */
  readonly file?: string | undefined;
  /** The process environment (AMULET_MASTER_KEY, 64 hex digits). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The CA directory, for the demo default `<dir>/master.key`. */
  readonly dir: string;
}

function parseKey(text: string, where: string): Uint8Array {
  const trimmed = text.trim();
  if (!/^[0-9A-Fa-f]{64}$/.test(trimmed)) {
    throw new RootOfTrustError('ERR_MASTER_KEY', `master key from ${where} must be 64 hexadecimal digits`);
  }
  return fromHex(trimmed);
}

/** The keystore master key: the file option, then the environment, then `<dir>/master.key`. */
export function resolveMasterKey(source: MasterKeySource): Uint8Array {
  if (source.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(source.file, 'utf8');
    } catch {
      throw new RootOfTrustError('ERR_MASTER_KEY', 'master key file cannot be read');
    }
    return parseKey(text, 'the master key file');
  }
  const fromEnv = source.env?.[MASTER_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return parseKey(fromEnv, MASTER_KEY_ENV);
  const inDir = join(source.dir, MASTER_KEY_FILE);
  if (existsSync(inDir)) return parseKey(readFileSync(inDir, 'utf8'), MASTER_KEY_FILE);
  throw new RootOfTrustError(
    'ERR_MASTER_KEY',
    `no master key: give --master-key-file or ${MASTER_KEY_ENV}, or run init to create ${MASTER_KEY_FILE}`,
  );
}

/** Demo default: writes a fresh master key beside the CA files, readable by the owner only. */
export function writeDemoMasterKey(dir: string, key: Uint8Array): void {
  atomicWrite(join(dir, MASTER_KEY_FILE), `${Buffer.from(key).toString('hex')}\n`, 0o600);
}
