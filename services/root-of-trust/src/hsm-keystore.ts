import type { Hsm } from '@amulet/hsm';
import type { Signer } from '@amulet/pki';
import type { KeyCurve, Keystore } from './keystore.ts';
import { RootOfTrustError } from './root-of-trust-error.ts';

const NAME = /^[a-z][a-z0-9-]{0,30}$/;

/**
 * CA keys inside an HSM (@amulet/hsm: the software keystore or PKCS#11, e.g. SoftHSM2 or a
 * network HSM). Keys are generated inside (PKCS #11 v2.40 C_GenerateKeyPair with CKM_EC_KEY_PAIR_GEN
 * on the PKCS#11 backend), used only through `sign` (CKM_ECDSA over a SHA-256 digest), and named
 * `<prefix><name>`. The HSM interface offers ECDSA on P-256 only, so a P-384 root is refused here.
 *
 * Open it with `HsmKeystore.open`, which reads the public keys of the CA keys that already exist,
 * so that `has` and `load` answer without a round trip.
 */
export class HsmKeystore implements Keystore {
  readonly #hsm: Hsm;
  /** What every key id of this keystore starts with. */
  readonly prefix: string;
  readonly #publicKeys = new Map<string, Uint8Array>();

  private constructor(hsm: Hsm, prefix: string) {
    this.#hsm = hsm;
    this.prefix = prefix;
  }

  static async open(hsm: Hsm, options: { readonly prefix?: string } = {}): Promise<HsmKeystore> {
    const keystore = new HsmKeystore(hsm, options.prefix ?? 'rot-');
    for (const key of await hsm.listKeys()) {
      if (!key.keyId.startsWith(keystore.prefix) || key.usage !== 'signing') continue;
      keystore.#publicKeys.set(key.keyId, await hsm.getPublicKey(key.keyId));
    }
    return keystore;
  }

  has(name: string): boolean {
    return this.#publicKeys.has(this.#keyId(name));
  }

  async generate(name: string, curve: KeyCurve): Promise<Signer> {
    const keyId = this.#keyId(name);
    if (curve !== 'P-256')
      throw new RootOfTrustError('ERR_KEYSTORE_KEY', `the HSM keystore holds P-256 keys only, not ${curve}`);
    if (this.#publicKeys.has(keyId))
      throw new RootOfTrustError('ERR_KEYSTORE_KEY', `key ${name} already exists`);
    await this.#hsm.generateKey({ keyId, algorithm: 'ec-p256', usage: 'signing' });
    this.#publicKeys.set(keyId, await this.#hsm.getPublicKey(keyId));
    return this.load(name);
  }

  load(name: string): Signer {
    const keyId = this.#keyId(name);
    const spki = this.#publicKeys.get(keyId);
    if (spki === undefined) throw new RootOfTrustError('ERR_KEYSTORE_KEY', `no key named ${name}`);
    const hsm = this.#hsm;
    return {
      algorithm: 'ES256',
      publicKeySpki: () => spki,
      sign: (data) => hsm.sign({ keyId, message: data }),
    };
  }

  #keyId(name: string): string {
    if (!NAME.test(name))
      throw new RootOfTrustError('ERR_KEYSTORE_KEY', 'a key name is lower-case letters, digits and dashes');
    return this.prefix + name;
  }
}
