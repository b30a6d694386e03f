import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { KeyAttributes } from '../hsm.ts';
import { HsmError } from '../hsm-error.ts';

interface Sealed {
  /** AES-256-GCM nonce, 12 bytes, hex. */
  readonly iv: string;
  /** Ciphertext followed by the 16-byte tag, hex. */
  readonly sealed: string;
}

/** One key as stored: its attributes in clear, its value sealed under the master key. */
type StoredKey = KeyAttributes & Sealed;

interface FileContent {
  readonly format: 'amulet-hsm-keystore';
  readonly version: 1;
  /** An empty plaintext sealed under the master key, to refuse a wrong master key at open. */
  readonly check: Sealed;
  readonly keys: readonly StoredKey[];
}

export interface OpenedKey {
  readonly attributes: KeyAttributes;
  readonly value: Uint8Array;
}

const CHECK_AAD = Buffer.from('amulet-hsm-keystore/1 check', 'utf8');

/**
 * The associated data binds the sealed value to its key id (and to the attributes that decide
 * what the key may do), so that moving a value to another entry or editing an entry's usage or
 * exportability in the file makes the open fail.
 */
function associatedData(key: KeyAttributes): Buffer {
  return Buffer.from(
    ['amulet-hsm-key/1', key.keyId, key.algorithm, key.length, key.usage, key.exportable, key.kcv].join('\n'),
    'utf8',
  );
}

function seal(masterKey: Uint8Array, plaintext: Uint8Array, aad: Buffer): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { iv: iv.toString('hex'), sealed: body.toString('hex') };
}

function unseal(masterKey: Uint8Array, entry: Sealed, aad: Buffer): Uint8Array {
  const body = Buffer.from(entry.sealed, 'hex');
  const iv = Buffer.from(entry.iv, 'hex');
  if (iv.length !== 12 || body.length < 16) {
    throw new HsmError('ERR_HSM_KEYSTORE_CORRUPT', 'a keystore entry is malformed');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', masterKey, iv);
    decipher.setAAD(aad);
    decipher.setAuthTag(body.subarray(body.length - 16));
    const clear = Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
    return new Uint8Array(clear.buffer, clear.byteOffset, clear.length);
  } catch {
    throw new HsmError('ERR_HSM_KEYSTORE_AUTH', 'a keystore entry does not open under this master key');
  }
}

/**
 * A keystore persisted as one JSON file: attributes in clear, values sealed with AES-256-GCM under
 * the master key, the key id (and attributes) as associated data. Every change is written to a
 * temporary file and renamed over the old one, so a crash leaves the old or the new file whole.
 */
export class KeystoreFile {
  readonly #path: string;
  readonly #masterKey: Uint8Array;
  readonly #check: Sealed;
  readonly #entries = new Map<string, StoredKey>();
  #writing: Promise<void> = Promise.resolve();

  private constructor(path: string, masterKey: Uint8Array, check: Sealed) {
    this.#path = path;
    this.#masterKey = masterKey;
    this.#check = check;
  }

  /** Opens the file, or starts an empty keystore when there is none; returns the clear values too. */
  static async open(
    path: string,
    masterKey: Uint8Array,
  ): Promise<{ store: KeystoreFile; keys: Map<string, OpenedKey> }> {
    if (!(masterKey instanceof Uint8Array) || masterKey.length !== 32) {
      throw new HsmError('ERR_HSM_MASTER_KEY', 'the master key must be 32 bytes (AES-256)');
    }
    const master = Uint8Array.from(masterKey);
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new HsmError('ERR_HSM_KEYSTORE_IO', 'the keystore file cannot be read', { cause });
      }
    }
    const keys = new Map<string, OpenedKey>();
    if (text === undefined) {
      const store = new KeystoreFile(path, master, seal(master, new Uint8Array(0), CHECK_AAD));
      await store.#write();
      return { store, keys };
    }
    let parsed: { check: Sealed; keys: StoredKey[] };
    try {
      parsed = parseFile(JSON.parse(text));
    } catch (cause) {
      throw new HsmError('ERR_HSM_KEYSTORE_CORRUPT', 'the keystore file is not a keystore', { cause });
    }
    try {
      unseal(master, parsed.check, CHECK_AAD);
    } catch {
      throw new HsmError('ERR_HSM_MASTER_KEY_MISMATCH', 'the keystore was sealed under another master key');
    }
    const store = new KeystoreFile(path, master, parsed.check);
    for (const entry of parsed.keys) {
      const attributes = attributesOf(entry);
      keys.set(entry.keyId, { attributes, value: unseal(master, entry, associatedData(attributes)) });
      store.#entries.set(entry.keyId, entry);
    }
    return { store, keys };
  }

  async put(attributes: KeyAttributes, value: Uint8Array): Promise<void> {
    const entry: StoredKey = {
      ...attributesOf(attributes),
      ...seal(this.#masterKey, value, associatedData(attributes)),
    };
    this.#entries.set(attributes.keyId, entry);
    await this.#write();
  }

  async delete(keyId: string): Promise<void> {
    this.#entries.delete(keyId);
    await this.#write();
  }

  /** Waits for the writes under way. */
  async flush(): Promise<void> {
    await this.#writing;
  }

  /** Writes are queued so that each one sees the entries of every change before it. */
  #write(): Promise<void> {
    const next = this.#writing.then(async () => {
      const content: FileContent = {
        format: 'amulet-hsm-keystore',
        version: 1,
        check: this.#check,
        keys: [...this.#entries.values()],
      };
      const temporary = `${this.#path}.${process.pid}.tmp`;
      await writeFile(temporary, `${JSON.stringify(content, null, 1)}\n`, { mode: 0o600 });
      await rename(temporary, this.#path);
    });
    this.#writing = next.catch(() => undefined);
    return next.catch((cause) => {
      throw new HsmError('ERR_HSM_KEYSTORE_IO', 'the keystore file cannot be written', { cause });
    });
  }
}

function attributesOf(entry: KeyAttributes): KeyAttributes {
  return {
    keyId: entry.keyId,
    algorithm: entry.algorithm,
    length: entry.length,
    usage: entry.usage,
    exportable: entry.exportable,
    kcv: entry.kcv,
  };
}

function parseFile(value: unknown): { check: Sealed; keys: StoredKey[] } {
  const file = value as { format?: unknown; version?: unknown; check?: unknown; keys?: unknown };
  if (file?.format !== 'amulet-hsm-keystore' || file.version !== 1 || !Array.isArray(file.keys)) {
    throw new HsmError('ERR_HSM_KEYSTORE_CORRUPT', 'unknown keystore format or version');
  }
  const check = file.check as { iv?: unknown; sealed?: unknown };
  if (typeof check?.iv !== 'string' || typeof check.sealed !== 'string') {
    throw new HsmError('ERR_HSM_KEYSTORE_CORRUPT', 'the keystore check is missing');
  }
  for (const key of file.keys as Record<string, unknown>[]) {
    if (typeof key?.keyId !== 'string' || typeof key.iv !== 'string' || typeof key.sealed !== 'string') {
      throw new HsmError('ERR_HSM_KEYSTORE_CORRUPT', 'a keystore entry is malformed');
    }
  }
  return { check: { iv: check.iv, sealed: check.sealed }, keys: file.keys as StoredKey[] };
}
