import {
  createCipheriv,
  createDecipheriv,
  createECDH,
  createPrivateKey,
  createPublicKey,
  type ECDH,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  randomBytes,
} from 'node:crypto';
import { constantTimeEqual, toHex, xor } from '@amulet/bytes';
import {
  adjustDesParity,
  arpcMethod1,
  arpcMethod2,
  type CryptogramVerifier,
  createCmac,
  createCryptogramVerifier,
  cryptogramKeys,
  decipherPinBlock,
  deriveIccMasterKey,
  encipherPinBlock,
  findCryptogramVersion,
  keyCheckValue,
  macIso9797Algorithm3,
  type PreparedCmac,
  unwrapKeyBlock,
  verifyCryptogram,
  wrapKeyBlock,
} from '@amulet/emv';
import type {
  DataKey,
  DeriveIccMasterKeyInput,
  ExportKeyInput,
  GenerateKeyInput,
  Hsm,
  ImportKeyComponentsInput,
  ImportKeyInput,
  KeyAlgorithm,
  KeyAttributes,
  KeyUsage,
  MacInput,
  TranslatePinBlockInput,
  VerifyArqcInput,
  VerifyArqcResult,
} from '../hsm.ts';
import { HsmError, HsmVerificationError } from '../hsm-error.ts';
import {
  attributesFromHeader,
  checkKeyId,
  checkKeyShape,
  keyBlockFields,
  requireUsage,
} from '../key-policy.ts';
import { KeystoreFile, type OpenedKey } from './keystore-file.ts';

export interface SoftwareHsmOptions {
  /** The keystore file; created (empty) when it does not exist. */
  readonly path: string;
  /** 32 bytes: see masterKeyFromEnv and masterKeyFromFile. */
  readonly masterKey: Uint8Array;
}

/** The SubjectPublicKeyInfo prefix of an uncompressed P-256 point (RFC 5480). */
const P256_SPKI_PREFIX = Buffer.from('3059301306072A8648CE3D020106082A8648CE3D030107034200', 'hex');

/** RFC 3394 default initial value. */
const KW_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');

const random = (length: number): Uint8Array => new Uint8Array(randomBytes(length));

/** Key check value as the HSM reports it (see KeyAttributes.kcv). */
export function kcvOf(algorithm: KeyAlgorithm, value: Uint8Array): string {
  if (algorithm === 'ec-p256') return '';
  return toHex(keyCheckValue(value, { algorithm }));
}

/**
 * The software backend: keys in memory, sealed at rest in a JSON keystore file under a master
 * key. Each operation runs the @amulet/emv functions on the clear key inside this object, and
 * prepared objects (cryptogram verifiers with their key schedules, CMACs with their subkeys and
 * cipher contexts, node KeyObjects) are made once per key and reused.
 */
export class SoftwareHsm implements Hsm {
  readonly #store: KeystoreFile;
  readonly #keys: Map<string, OpenedKey>;
  readonly #verifiers = new Map<string, CryptogramVerifier>();
  readonly #privateKeys = new Map<string, KeyObject>();
  readonly #agreements = new Map<string, ECDH>();
  /** CMAC keys prepared once (subkeys and cipher context): a MAC then costs no cipher set-up. */
  readonly #macs = new Map<string, PreparedCmac>();
  #closed = false;

  private constructor(store: KeystoreFile, keys: Map<string, OpenedKey>) {
    this.#store = store;
    this.#keys = keys;
  }

  static async open(options: SoftwareHsmOptions): Promise<SoftwareHsm> {
    const { store, keys } = await KeystoreFile.open(options.path, options.masterKey);
    return new SoftwareHsm(store, keys);
  }

  #key(keyId: string): OpenedKey {
    if (this.#closed) throw new HsmError('ERR_HSM_CLOSED', 'the HSM is closed');
    const key = this.#keys.get(checkKeyId(keyId));
    if (key === undefined) throw new HsmError('ERR_HSM_KEY_NOT_FOUND', `no key ${keyId}`);
    return key;
  }

  async #add(
    keyId: string | undefined,
    algorithm: KeyAlgorithm,
    usage: KeyUsage,
    exportable: boolean,
    value: Uint8Array,
    length: number = value.length,
  ): Promise<KeyAttributes> {
    if (this.#closed) throw new HsmError('ERR_HSM_CLOSED', 'the HSM is closed');
    const id = keyId === undefined ? toHex(random(16)) : checkKeyId(keyId);
    if (this.#keys.has(id)) throw new HsmError('ERR_HSM_KEY_EXISTS', `key ${id} already exists`);
    checkKeyShape(algorithm, length, usage);
    const attributes: KeyAttributes = {
      keyId: id,
      algorithm,
      length,
      usage,
      exportable: exportable === true,
      kcv: kcvOf(algorithm, value),
    };
    this.#keys.set(id, { attributes, value });
    try {
      await this.#store.put(attributes, value);
    } catch (error) {
      this.#keys.delete(id);
      throw error;
    }
    return attributes;
  }

  async generateKey(input: GenerateKeyInput): Promise<KeyAttributes> {
    const { algorithm, usage } = input;
    if (algorithm === 'ec-p256') {
      checkKeyShape(algorithm, 32, usage);
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const der = new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' }));
      return this.#add(input.keyId, algorithm, usage, input.exportable === true, der, 32);
    }
    const length = input.length ?? (algorithm === 'tdes' ? 16 : 32);
    checkKeyShape(algorithm, length, usage);
    let value = random(length);
    // ANSI X9.52: TDEA keys carry odd parity in the low bit of every byte.
    if (algorithm === 'tdes') value = adjustDesParity(value);
    return this.#add(input.keyId, algorithm, usage, input.exportable === true, value);
  }

  async importKeyComponents(input: ImportKeyComponentsInput): Promise<KeyAttributes> {
    const components = input.components;
    if (!Array.isArray(components) || components.length < 2 || components.length > 3) {
      throw new HsmError('ERR_HSM_COMPONENTS', 'a key is entered as two or three components');
    }
    const length = components[0]?.length ?? 0;
    for (const component of components) {
      if (!(component instanceof Uint8Array) || component.length !== length) {
        throw new HsmError('ERR_HSM_COMPONENTS', 'key components must be byte arrays of one length');
      }
    }
    checkKeyShape(input.algorithm, length, input.usage);
    let value = components.slice(1).reduce((sum, component) => xor(sum, component), components[0]!);
    if (input.algorithm === 'tdes') value = adjustDesParity(value);
    if (input.kcv !== undefined && input.kcv.toUpperCase() !== kcvOf(input.algorithm, value)) {
      throw new HsmError('ERR_HSM_KCV_MISMATCH', 'the combined key does not have the expected check value');
    }
    return this.#add(input.keyId, input.algorithm, input.usage, input.exportable === true, value);
  }

  async importKey(input: ImportKeyInput): Promise<KeyAttributes> {
    const kek = this.#key(input.kekId);
    requireUsage(kek.attributes, 'kek');
    const { key, header } = unwrapKeyBlock({ kbpk: kek.value, keyBlock: input.keyBlock });
    const { usage, algorithm, exportable } = attributesFromHeader(header);
    return this.#add(input.keyId, algorithm, usage, exportable, key);
  }

  async exportKey(input: ExportKeyInput): Promise<string> {
    const key = this.#key(input.keyId);
    const kek = this.#key(input.kekId);
    requireUsage(kek.attributes, 'kek');
    if (!key.attributes.exportable) {
      throw new HsmError('ERR_HSM_NOT_EXPORTABLE', `key ${input.keyId} is not exportable`);
    }
    const fields = keyBlockFields(key.attributes);
    return wrapKeyBlock({
      kbpk: kek.value,
      key: key.value,
      header: {
        version: input.version ?? (kek.attributes.algorithm === 'aes' ? 'D' : 'B'),
        ...fields,
        keyVersionNumber: '00',
        exportability: 'E',
        keyContext: '0',
        optionalBlocks: [],
      },
      random,
    });
  }

  async getKey(keyId: string): Promise<KeyAttributes> {
    return this.#key(keyId).attributes;
  }

  async listKeys(): Promise<readonly KeyAttributes[]> {
    return [...this.#keys.values()].map((key) => key.attributes);
  }

  async deleteKey(keyId: string): Promise<void> {
    this.#key(keyId);
    this.#keys.delete(keyId);
    for (const cached of this.#verifiers.keys()) {
      if (cached.startsWith(`${keyId}\n`)) this.#verifiers.delete(cached);
    }
    this.#privateKeys.delete(keyId);
    this.#agreements.delete(keyId);
    this.#macs.delete(keyId);
    await this.#store.delete(keyId);
  }

  async deriveIccMasterKey(input: DeriveIccMasterKeyInput): Promise<KeyAttributes> {
    const imk = this.#key(input.imkId);
    requireUsage(imk.attributes, 'imk-ac');
    const algorithm = imk.attributes.algorithm as 'tdes' | 'aes';
    // EMV Book 2 A1.4.1 (Option A), the derived key stays in the HSM under a new id.
    const value = deriveIccMasterKey({
      imk: imk.value,
      pan: input.pan,
      psn: input.psn,
      option: 'a',
      algorithm,
    });
    return this.#add(input.keyId, algorithm, 'icc-mk-ac', input.exportable === true, value);
  }

  async verifyArqc(input: VerifyArqcInput): Promise<VerifyArqcResult> {
    const imk = this.#key(input.imkId);
    requireUsage(imk.attributes, 'imk-ac');
    const algorithm = imk.attributes.algorithm as 'tdes' | 'aes';
    const version = findCryptogramVersion(input.cvn);
    const card = {
      pan: input.pan,
      psn: input.psn,
      atc: input.atc,
      data: input.data,
      ...(input.unpredictableNumber === undefined ? {} : { unpredictableNumber: input.unpredictableNumber }),
    };
    let valid: boolean;
    if (imk.value.length === 16) {
      // The fast path: one verifier (with its IMK key schedule) per key and CVN, reused.
      const cacheKey = `${imk.attributes.keyId}\n${version.cvn}`;
      let verifier = this.#verifiers.get(cacheKey);
      if (verifier === undefined) {
        verifier = createCryptogramVerifier({ cvn: version.cvn, imk: imk.value, algorithm });
        this.#verifiers.set(cacheKey, verifier);
      }
      valid = verifier.verify({ ...card, cryptogram: input.arqc });
    } else {
      valid = verifyCryptogram({
        ...card,
        cvn: version.cvn,
        imk: imk.value,
        algorithm,
        cryptogram: input.arqc,
      });
    }
    if (!valid) throw new HsmVerificationError();
    if (input.arpc === undefined) return {};
    const keys = cryptogramKeys({ ...card, cvn: version.cvn, imk: imk.value, algorithm }, version);
    if (input.arpc.method === 1) {
      if (algorithm !== 'tdes') throw new HsmError('ERR_HSM_ARPC', 'ARPC method 1 is defined for TDEA keys');
      // Visa CVN 10 and Mastercard CVN 16/17 use the ICC master key; the others their session key.
      const key = version.sessionKey === 'emv-csk' ? keys.sessionKey : keys.iccMasterKey;
      return { arpc: arpcMethod1(key, input.arqc, input.arpc.arc) };
    }
    return {
      arpc: arpcMethod2(
        keys.sessionKey,
        input.arqc,
        input.arpc.cardStatusUpdate,
        input.arpc.proprietaryData ?? new Uint8Array(0),
        algorithm,
      ),
    };
  }

  #mac(input: MacInput): Uint8Array {
    const key = this.#key(input.keyId);
    requireUsage(key.attributes, 'mac');
    if (!(input.data instanceof Uint8Array)) throw new HsmError('ERR_HSM_DATA', 'data must be a Uint8Array');
    let full: Uint8Array;
    if (input.algorithm === 'iso9797-alg3') {
      if (key.attributes.algorithm !== 'tdes') {
        throw new HsmError('ERR_HSM_MAC_ALGORITHM', 'ISO 9797-1 algorithm 3 needs a TDEA key');
      }
      // ISO/IEC 9797-1 MAC algorithm 3 with the key's left and right halves.
      full = macIso9797Algorithm3(key.value, input.data, input.padding ?? 2);
    } else if (input.algorithm === 'cmac') {
      let prepared = this.#macs.get(input.keyId);
      if (prepared === undefined) {
        prepared = createCmac(key.attributes.algorithm as 'tdes' | 'aes', key.value);
        this.#macs.set(input.keyId, prepared);
      }
      full = prepared(input.data);
    } else {
      throw new HsmError('ERR_HSM_MAC_ALGORITHM', 'MAC algorithm must be iso9797-alg3 or cmac');
    }
    const length = input.length ?? full.length;
    if (!Number.isInteger(length) || length < 4 || length > full.length) {
      throw new HsmError('ERR_HSM_MAC_LENGTH', `a MAC is 4 to ${full.length} bytes`);
    }
    return full.slice(0, length);
  }

  async generateMac(input: MacInput): Promise<Uint8Array> {
    return this.#mac(input);
  }

  async verifyMac(input: MacInput & { readonly mac: Uint8Array }): Promise<void> {
    const mac = input.mac;
    if (!(mac instanceof Uint8Array)) throw new HsmVerificationError();
    let expected: Uint8Array;
    try {
      expected = this.#mac({ ...input, length: mac.length });
    } catch (error) {
      // A MAC of the wrong length fails like a wrong MAC; the other errors are the caller's input.
      if (error instanceof HsmError && error.code === 'ERR_HSM_MAC_LENGTH') throw new HsmVerificationError();
      throw error;
    }
    if (!constantTimeEqual(expected, mac)) throw new HsmVerificationError();
  }

  #wrap(kekId: string, dataKey: Uint8Array): Uint8Array {
    const kek = this.#key(kekId);
    requireUsage(kek.attributes, 'data-key-wrap');
    // RFC 3394 AES key wrap (NIST SP 800-38F KW) with the default initial value.
    const cipher = createCipheriv(`id-aes${kek.value.length * 8}-wrap`, kek.value, KW_IV);
    return new Uint8Array(Buffer.concat([cipher.update(dataKey), cipher.final()]));
  }

  #unwrap(kekId: string, wrapped: Uint8Array): Uint8Array {
    const kek = this.#key(kekId);
    requireUsage(kek.attributes, 'data-key-wrap');
    if (!(wrapped instanceof Uint8Array) || ![24, 32, 40].includes(wrapped.length)) {
      throw new HsmError('ERR_HSM_UNWRAP', 'a wrapped data key is 24, 32 or 40 bytes');
    }
    try {
      const decipher = createDecipheriv(`id-aes${kek.value.length * 8}-wrap`, kek.value, KW_IV);
      return new Uint8Array(Buffer.concat([decipher.update(wrapped), decipher.final()]));
    } catch {
      throw new HsmError('ERR_HSM_UNWRAP', 'the wrapped data key does not open under this key');
    }
  }

  async generateDataKey(input: { readonly kekId: string; readonly length?: 16 | 24 | 32 }): Promise<DataKey> {
    const length = input.length ?? 32;
    if (![16, 24, 32].includes(length))
      throw new HsmError('ERR_HSM_KEY_LENGTH', 'a data key is 16, 24 or 32 bytes');
    const plaintext = random(length);
    return { wrapped: this.#wrap(input.kekId, plaintext), plaintext, kekId: input.kekId };
  }

  async decryptDataKey(input: { readonly kekId: string; readonly wrapped: Uint8Array }): Promise<Uint8Array> {
    return this.#unwrap(input.kekId, input.wrapped);
  }

  async rewrapDataKey(input: {
    readonly fromKekId: string;
    readonly toKekId: string;
    readonly wrapped: Uint8Array;
  }): Promise<Uint8Array> {
    const clear = this.#unwrap(input.fromKekId, input.wrapped);
    try {
      return this.#wrap(input.toKekId, clear);
    } finally {
      clear.fill(0);
    }
  }

  async translatePinBlock(input: TranslatePinBlockInput): Promise<Uint8Array> {
    const from = this.#key(input.from.keyId);
    const to = this.#key(input.to.keyId);
    requireUsage(from.attributes, 'pin-encryption');
    requireUsage(to.attributes, 'pin-encryption');
    // ISO 9564-1: decipher under the incoming key, re-encipher in the outgoing format; the clear
    // PIN exists only inside this call.
    const pin = decipherPinBlock({
      format: input.from.format,
      block: input.block,
      pan: input.pan,
      key: from.value,
    });
    return encipherPinBlock({ format: input.to.format, pin, pan: input.pan, key: to.value, random });
  }

  #privateKey(keyId: string, ...usages: readonly KeyUsage[]): KeyObject {
    const key = this.#key(keyId);
    requireUsage(key.attributes, ...(usages.length === 0 ? (['signing'] as const) : usages));
    let object = this.#privateKeys.get(keyId);
    if (object === undefined) {
      object = createPrivateKey({ key: Buffer.from(key.value), format: 'der', type: 'pkcs8' });
      this.#privateKeys.set(keyId, object);
    }
    return object;
  }

  async sign(input: { readonly keyId: string; readonly message: Uint8Array }): Promise<Uint8Array> {
    if (!(input.message instanceof Uint8Array))
      throw new HsmError('ERR_HSM_DATA', 'message must be a Uint8Array');
    // FIPS 186-4 ECDSA with SHA-256; the signature as the DER SEQUENCE { r, s } of RFC 3279.
    return new Uint8Array(
      nodeSign('sha256', input.message, { key: this.#privateKey(input.keyId), dsaEncoding: 'der' }),
    );
  }

  async getPublicKey(keyId: string): Promise<Uint8Array> {
    return new Uint8Array(
      createPublicKey(this.#privateKey(keyId, 'signing', 'key-agreement')).export({
        format: 'der',
        type: 'spki',
      }),
    );
  }

  async deriveSharedSecret(input: {
    readonly keyId: string;
    readonly peerPublicKey: Uint8Array;
  }): Promise<Uint8Array> {
    const key = this.#key(input.keyId);
    requireUsage(key.attributes, 'key-agreement');
    const peer = input.peerPublicKey;
    // RFC 5480: a P-256 SubjectPublicKeyInfo with an uncompressed point is this prefix and 65 bytes.
    if (
      !(peer instanceof Uint8Array) ||
      peer.length !== P256_SPKI_PREFIX.length + 65 ||
      !P256_SPKI_PREFIX.equals(peer.subarray(0, P256_SPKI_PREFIX.length))
    )
      throw new HsmError('ERR_HSM_DATA', 'the peer public key is not a P-256 SubjectPublicKeyInfo');
    let ecdh = this.#agreements.get(input.keyId);
    if (ecdh === undefined) {
      // The ECDH context holds the private scalar; built once per key (the classic API skips the
      // slow EVP key decoding of every call).
      const jwk = this.#privateKey(input.keyId, 'key-agreement').export({ format: 'jwk' });
      ecdh = createECDH('prime256v1');
      ecdh.setPrivateKey(Buffer.from(String(jwk.d), 'base64url'));
      this.#agreements.set(input.keyId, ecdh);
    }
    try {
      // NIST SP 800-56A 5.7.1.2: Z is the x-coordinate of the shared point; the point is checked.
      return new Uint8Array(ecdh.computeSecret(peer.subarray(P256_SPKI_PREFIX.length)));
    } catch (cause) {
      throw new HsmError('ERR_HSM_DATA', 'the peer public key is not a point on P-256', { cause });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#store.flush();
    for (const key of this.#keys.values()) key.value.fill(0);
    this.#keys.clear();
    this.#verifiers.clear();
    this.#privateKeys.clear();
    this.#agreements.clear();
    this.#macs.clear();
  }
}
