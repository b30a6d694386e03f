import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SignatureAlgorithm, Signer } from '@amulet/pki';
import { atomicWrite } from './atomic-write.ts';
import type { KeyCurve, Keystore } from './keystore.ts';
import { RootOfTrustError } from './root-of-trust-error.ts';

export type { KeyCurve } from './keystore.ts';

/** A CA key held in process memory: the default HSM until the PKCS#11 binding exists. */
export class SoftwareSigner implements Signer {
  readonly algorithm: SignatureAlgorithm;
  private readonly privateKey: KeyObject;
  private readonly spki: Uint8Array;

  constructor(privateKey: KeyObject) {
    const curve = privateKey.asymmetricKeyDetails?.namedCurve;
    if (privateKey.asymmetricKeyType !== 'ec' || (curve !== 'prime256v1' && curve !== 'secp384r1')) {
      throw new RootOfTrustError('ERR_KEYSTORE_KEY', 'keystore keys must be ECDSA P-256 or P-384');
    }
    this.algorithm = curve === 'prime256v1' ? 'ES256' : 'ES384';
    this.privateKey = privateKey;
    this.spki = new Uint8Array(createPublicKey(privateKey).export({ format: 'der', type: 'spki' }));
  }

  static generate(curve: KeyCurve): SoftwareSigner {
    return new SoftwareSigner(generateKeyPairSync('ec', { namedCurve: curve }).privateKey);
  }

  publicKeySpki(): Uint8Array {
    return this.spki;
  }

  async sign(data: Uint8Array): Promise<Uint8Array> {
    return this.signSync(data);
  }

  /** Synchronous signing, for the benchmark's raw rate and hot paths. */
  signSync(data: Uint8Array): Uint8Array {
    const digest = this.algorithm === 'ES256' ? 'sha256' : 'sha384';
    return new Uint8Array(sign(digest, data, { key: this.privateKey, dsaEncoding: 'der' }));
  }

  /** PKCS #8 DER of the private key, only for the keystore to encrypt. */
  exportPkcs8(): Uint8Array {
    return new Uint8Array(this.privateKey.export({ format: 'der', type: 'pkcs8' }));
  }
}

interface KeyFile {
  readonly version: 1;
  readonly name: string;
  readonly algorithm: SignatureAlgorithm;
  readonly publicKeySpki: string;
  readonly iv: string;
  readonly ciphertext: string;
  readonly tag: string;
}

const KEY_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Keys at rest in `<dir>/<name>.key.json`, each PKCS #8 private key encrypted with AES-256-GCM
 * under the master key, the key's name bound as associated data so files cannot be swapped.
 * The default `Keystore`; a PKCS#11 keystore implements the same interface (keystore.ts).
 */
export class SoftwareKeystore implements Keystore {
  private readonly dir: string;
  private readonly masterKey: Uint8Array;

  constructor(dir: string, masterKey: Uint8Array) {
    if (masterKey.length !== 32) throw new RootOfTrustError('ERR_MASTER_KEY', 'master key must be 32 bytes');
    this.dir = dir;
    this.masterKey = masterKey;
  }

  private path(name: string): string {
    if (!KEY_NAME.test(name))
      throw new RootOfTrustError('ERR_KEYSTORE_KEY', 'key names are lower-case letters, digits and -');
    return join(this.dir, `${name}.key.json`);
  }

  has(name: string): boolean {
    return existsSync(this.path(name));
  }

  /** Generates a key, stores it encrypted and returns its signer. Refuses to overwrite. */
  generate(name: string, curve: KeyCurve): SoftwareSigner {
    const path = this.path(name);
    if (existsSync(path)) throw new RootOfTrustError('ERR_KEYSTORE_EXISTS', `key ${name} already exists`);
    const signer = SoftwareSigner.generate(curve);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.masterKey, iv);
    cipher.setAAD(Buffer.from(`amulet-keystore-v1:${name}`));
    const ciphertext = Buffer.concat([cipher.update(signer.exportPkcs8()), cipher.final()]);
    const file: KeyFile = {
      version: 1,
      name,
      algorithm: signer.algorithm,
      publicKeySpki: Buffer.from(signer.publicKeySpki()).toString('base64'),
      iv: iv.toString('base64'),
      ciphertext: ciphertext.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
    };
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    atomicWrite(path, `${JSON.stringify(file, null, 2)}\n`, 0o600);
    return signer;
  }

  /** Loads and decrypts a key; a wrong master key or an altered file gives one fixed error. */
  load(name: string): SoftwareSigner {
    const path = this.path(name);
    let file: KeyFile;
    try {
      file = JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
    } catch {
      throw new RootOfTrustError('ERR_KEYSTORE_KEY', `key ${name} cannot be read`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.masterKey, Buffer.from(file.iv, 'base64'));
      decipher.setAAD(Buffer.from(`amulet-keystore-v1:${name}`));
      decipher.setAuthTag(Buffer.from(file.tag, 'base64'));
      const pkcs8 = Buffer.concat([
        decipher.update(Buffer.from(file.ciphertext, 'base64')),
        decipher.final(),
      ]);
      return new SoftwareSigner(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
    } catch {
      throw new RootOfTrustError(
        'ERR_KEYSTORE_DECRYPT',
        `key ${name} does not decrypt under this master key`,
      );
    }
  }
}
