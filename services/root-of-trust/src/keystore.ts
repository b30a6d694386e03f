import type { Signer } from '@amulet/pki';

export type KeyCurve = 'P-256' | 'P-384';

/**
 * Where CA keys live. The certificate authority and the key ceremony reach keys only through this
 * interface and use them only as `Signer`s (the private key never crosses it), so a PKCS#11
 * keystore (an HSM, PKCS #11 v2.40 C_GenerateKeyPair / C_Sign with CKM_ECDSA) can replace the
 * software keystore without other changes. Key names are `root`, `device-ca` and `service-ca`.
 */
export interface Keystore {
  /** True when a key of this name exists. */
  has(name: string): boolean;
  /**
   * Creates a key pair that never leaves the keystore; refuses to overwrite an existing name.
   * An HSM answers asynchronously, so callers await the result.
   */
  generate(name: string, curve: KeyCurve): Signer | Promise<Signer>;
  /** A signer for an existing key. */
  load(name: string): Signer;
}
