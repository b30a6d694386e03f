import { readFile } from 'node:fs/promises';
import { HsmError } from './hsm-error.ts';

const HEX_256 = /^[0-9a-fA-F]{64}$/;

/** 32 bytes from 64 hex digits (surrounding white space ignored) or from 32 raw bytes. */
function parseMasterKey(raw: Uint8Array | string, where: string): Uint8Array {
  if (typeof raw !== 'string' && raw.length === 32) return Uint8Array.from(raw);
  const text = (typeof raw === 'string' ? raw : Buffer.from(raw).toString('latin1')).trim();
  if (!HEX_256.test(text)) {
    // The message names where the key came from, never what it holds.
    throw new HsmError('ERR_HSM_MASTER_KEY', `${where} must hold a 256-bit key: 64 hex digits or 32 bytes`);
  }
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

/** The keystore master key from an environment variable holding 64 hex digits. Never logged. */
export function masterKeyFromEnv(name: string, env: NodeJS.ProcessEnv = process.env): Uint8Array {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new HsmError('ERR_HSM_MASTER_KEY', `environment variable ${name} is not set`);
  }
  return parseMasterKey(value, `environment variable ${name}`);
}

/** The keystore master key from a file holding 64 hex digits or 32 raw bytes. Never logged. */
export async function masterKeyFromFile(path: string): Promise<Uint8Array> {
  let content: Uint8Array;
  try {
    content = await readFile(path);
  } catch (cause) {
    throw new HsmError('ERR_HSM_MASTER_KEY', 'the master key file cannot be read', { cause });
  }
  return parseMasterKey(content, 'the master key file');
}
