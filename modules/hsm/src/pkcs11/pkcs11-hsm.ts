import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { constantTimeEqual, toHex, xor } from '@amulet/bytes';
import {
  atcDiversifier,
  decodeFormat4PinField,
  decodePinBlock,
  derivationInput,
  type EncipheredPinBlockFormat,
  encodeFormat4PanField,
  encodeFormat4PinField,
  encodePinBlock,
  findCryptogramVersion,
} from '@amulet/emv';
import type * as Pkcs11Module from 'pkcs11js';
import type {
  DataKey,
  DeriveIccMasterKeyInput,
  GenerateKeyInput,
  Hsm,
  ImportKeyComponentsInput,
  KeyAlgorithm,
  KeyAttributes,
  KeyUsage,
  MacInput,
  TranslatePinBlockInput,
  VerifyArqcInput,
  VerifyArqcResult,
} from '../hsm.ts';
import { HsmError, HsmVerificationError } from '../hsm-error.ts';
import { checkKeyId, checkKeyShape, requireUsage } from '../key-policy.ts';

type Pkcs11 = typeof Pkcs11Module;
type Handle = Buffer;

export interface Pkcs11HsmOptions {
  /** The PKCS#11 module, for SoftHSM2 on Debian `/usr/lib/softhsm/libsofthsm2.so`. */
  readonly library: string;
  /** The label of an initialized token. */
  readonly tokenLabel: string;
  /** The user PIN of that token. */
  readonly pin: string;
}

/** DER of the P-256 OID 1.2.840.10045.3.1.7 (RFC 5480), for CKA_EC_PARAMS. */
const P256_PARAMS = Buffer.from('06082A8648CE3D030107', 'hex');
/** The SubjectPublicKeyInfo prefix of an uncompressed P-256 point (RFC 5480). */
const P256_SPKI_PREFIX = Buffer.from('3059301306072A8648CE3D020106082A8648CE3D030107034200', 'hex');

function unsupported(operation: string): HsmError {
  return new HsmError('ERR_HSM_UNSUPPORTED', `${operation} is not available on the PKCS#11 backend`);
}

/** Metadata the HSM needs beyond PKCS#11's own attributes, kept in CKA_ID as JSON. */
interface Metadata {
  readonly usage: KeyUsage;
  readonly algorithm: KeyAlgorithm;
  readonly length: number;
  readonly exportable: boolean;
  readonly kcv: string;
}

/**
 * The PKCS#11 backend (tested against SoftHSM2). Every key is a token object with CKA_SENSITIVE
 * true and CKA_EXTRACTABLE false; each operation runs on the token's mechanisms, and where the
 * token lacks one the operation is built from primitives (ECB encryption, AES key wrap) so that
 * no key value is read out. See docs/hsm.md for the mechanism of each operation.
 */
export class Pkcs11Hsm implements Hsm {
  readonly #p: Pkcs11Module.PKCS11;
  readonly #c: Pkcs11;
  readonly #session: Handle;
  readonly #library: string;
  #closed = false;

  private constructor(c: Pkcs11, p: Pkcs11Module.PKCS11, session: Handle, library: string) {
    this.#library = library;
    this.#c = c;
    this.#p = p;
    this.#session = session;
  }

  static async open(options: Pkcs11HsmOptions): Promise<Pkcs11Hsm> {
    // pkcs11js is a native addon published as CommonJS.
    const c = createRequire(import.meta.url)('pkcs11js') as Pkcs11;
    const p = acquireModule(c, options.library);
    try {
      const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trim() === options.tokenLabel);
      if (slot === undefined) throw new HsmError('ERR_HSM_PKCS11', `no token labelled ${options.tokenLabel}`);
      const session = p.C_OpenSession(slot, c.CKF_RW_SESSION | c.CKF_SERIAL_SESSION);
      try {
        p.C_Login(session, c.CKU_USER, options.pin);
      } catch (cause) {
        // PKCS#11 logs in the application, not the session: a second handle finds it logged in.
        if (!String((cause as Error).message).includes('CKR_USER_ALREADY_LOGGED_IN')) {
          p.C_CloseSession(session);
          throw cause;
        }
      }
      return new Pkcs11Hsm(c, p, session, options.library);
    } catch (cause) {
      releaseModule(options.library);
      if (cause instanceof HsmError) throw cause;
      throw new HsmError('ERR_HSM_PKCS11', 'the token cannot be opened', { cause });
    }
  }

  #find(keyId: string, objectClass: number): Handle | undefined {
    const p = this.#p;
    p.C_FindObjectsInit(this.#session, [
      { type: this.#c.CKA_LABEL, value: keyId },
      { type: this.#c.CKA_CLASS, value: objectClass },
      { type: this.#c.CKA_TOKEN, value: true },
    ]);
    try {
      return p.C_FindObjects(this.#session, 1)[0];
    } finally {
      p.C_FindObjectsFinal(this.#session);
    }
  }

  #attribute(handle: Handle, type: number): Buffer {
    const [attribute] = this.#p.C_GetAttributeValue(this.#session, handle, [{ type }]);
    if (!Buffer.isBuffer(attribute?.value))
      throw new HsmError('ERR_HSM_PKCS11', 'the token returned no attribute');
    return attribute.value;
  }

  #key(keyId: string): { handle: Handle; attributes: KeyAttributes } {
    if (this.#closed) throw new HsmError('ERR_HSM_CLOSED', 'the HSM is closed');
    checkKeyId(keyId);
    const handle = this.#find(keyId, this.#c.CKO_SECRET_KEY) ?? this.#find(keyId, this.#c.CKO_PRIVATE_KEY);
    if (handle === undefined) throw new HsmError('ERR_HSM_KEY_NOT_FOUND', `no key ${keyId}`);
    let metadata: Metadata;
    try {
      metadata = JSON.parse(this.#attribute(handle, this.#c.CKA_ID).toString('utf8')) as Metadata;
    } catch {
      throw new HsmError('ERR_HSM_PKCS11', `object ${keyId} on the token is not a key of this HSM`);
    }
    return { handle, attributes: { keyId, ...metadata } };
  }

  #newId(keyId: string | undefined): string {
    if (this.#closed) throw new HsmError('ERR_HSM_CLOSED', 'the HSM is closed');
    const id = keyId === undefined ? toHex(randomBytes(16)) : checkKeyId(keyId);
    if (this.#find(id, this.#c.CKO_SECRET_KEY) ?? this.#find(id, this.#c.CKO_PRIVATE_KEY)) {
      throw new HsmError('ERR_HSM_KEY_EXISTS', `key ${id} already exists`);
    }
    return id;
  }

  /** The attributes of a secret key object: sensitive, never extractable, for its usage only. */
  #secretTemplate(keyId: string, metadata: Metadata, token = true): Pkcs11Module.Template {
    const c = this.#c;
    const wraps = metadata.usage === 'data-key-wrap';
    const derives = metadata.usage === 'imk-ac' || metadata.usage === 'icc-mk-ac';
    return [
      { type: c.CKA_DERIVE, value: derives },
      { type: c.CKA_CLASS, value: c.CKO_SECRET_KEY },
      { type: c.CKA_KEY_TYPE, value: keyType(c, metadata.algorithm, metadata.length) },
      { type: c.CKA_TOKEN, value: token },
      { type: c.CKA_PRIVATE, value: true },
      { type: c.CKA_LABEL, value: keyId },
      { type: c.CKA_ID, value: Buffer.from(JSON.stringify(metadata), 'utf8') },
      { type: c.CKA_SENSITIVE, value: true },
      { type: c.CKA_EXTRACTABLE, value: false },
      { type: c.CKA_ENCRYPT, value: !wraps },
      { type: c.CKA_DECRYPT, value: !wraps },
      // A wrapping key may sign only until its check value is taken (#attributes turns it off).
      { type: c.CKA_SIGN, value: true },
      { type: c.CKA_VERIFY, value: !wraps },
      { type: c.CKA_WRAP, value: wraps },
      { type: c.CKA_UNWRAP, value: wraps },
    ];
  }

  /** The key check value computed on the token: E(0) for TDEA, CMAC(0) for AES (X9.24-1). */
  #kcv(handle: Handle, algorithm: KeyAlgorithm): string {
    const c = this.#c;
    if (algorithm === 'tdes') return toHex(this.#ecb(handle, 'tdes', new Uint8Array(8), true).subarray(0, 3));
    this.#p.C_SignInit(this.#session, { mechanism: c.CKM_AES_CMAC }, handle);
    return toHex(this.#p.C_Sign(this.#session, Buffer.alloc(16), Buffer.alloc(16)).subarray(0, 5));
  }

  #ecb(handle: Handle, algorithm: 'tdes' | 'aes', data: Uint8Array, encrypt: boolean): Uint8Array {
    const c = this.#c;
    const mechanism = { mechanism: algorithm === 'tdes' ? c.CKM_DES3_ECB : c.CKM_AES_ECB };
    const input = Buffer.from(data);
    const output = Buffer.alloc(data.length + 16);
    if (encrypt) {
      this.#p.C_EncryptInit(this.#session, mechanism, handle);
      return new Uint8Array(this.#p.C_Encrypt(this.#session, input, output));
    }
    this.#p.C_DecryptInit(this.#session, mechanism, handle);
    return new Uint8Array(this.#p.C_Decrypt(this.#session, input, output));
  }

  /** Takes the key check value, records the metadata, and narrows a wrapping key to wrapping. */
  #attributes(keyId: string, handle: Handle, partial: Omit<Metadata, 'kcv'>): KeyAttributes {
    const c = this.#c;
    try {
      const metadata: Metadata = { ...partial, kcv: this.#kcv(handle, partial.algorithm) };
      const template: Pkcs11Module.Template = [
        { type: c.CKA_ID, value: Buffer.from(JSON.stringify(metadata), 'utf8') },
      ];
      if (partial.usage === 'data-key-wrap') template.push({ type: c.CKA_SIGN, value: false });
      this.#p.C_SetAttributeValue(this.#session, handle, template);
      return { keyId, ...metadata };
    } catch (cause) {
      this.#p.C_DestroyObject(this.#session, handle);
      throw new HsmError('ERR_HSM_PKCS11', 'the token refused the new key', { cause });
    }
  }

  async generateKey(input: GenerateKeyInput): Promise<KeyAttributes> {
    const c = this.#c;
    const keyId = this.#newId(input.keyId);
    const exportable = input.exportable === true;
    if (input.algorithm === 'ec-p256') {
      checkKeyShape(input.algorithm, 32, input.usage);
      if (input.usage === 'key-agreement') throw unsupported('ECDH key agreement');
      const partial = { usage: input.usage, algorithm: input.algorithm, length: 32, exportable, kcv: '' };
      const id = Buffer.from(JSON.stringify(partial), 'utf8');
      const pair = this.#p.C_GenerateKeyPair(
        this.#session,
        { mechanism: c.CKM_EC_KEY_PAIR_GEN },
        [
          { type: c.CKA_TOKEN, value: true },
          { type: c.CKA_LABEL, value: keyId },
          { type: c.CKA_ID, value: id },
          { type: c.CKA_EC_PARAMS, value: P256_PARAMS },
          { type: c.CKA_VERIFY, value: true },
        ],
        [
          { type: c.CKA_TOKEN, value: true },
          { type: c.CKA_PRIVATE, value: true },
          { type: c.CKA_LABEL, value: keyId },
          { type: c.CKA_ID, value: id },
          { type: c.CKA_SENSITIVE, value: true },
          { type: c.CKA_EXTRACTABLE, value: false },
          { type: c.CKA_SIGN, value: true },
        ],
      );
      if (pair.privateKey === undefined) throw new HsmError('ERR_HSM_PKCS11', 'the token made no key pair');
      return { keyId, ...partial };
    }
    const length = input.length ?? (input.algorithm === 'tdes' ? 16 : 32);
    checkKeyShape(input.algorithm, length, input.usage);
    const partial = { usage: input.usage, algorithm: input.algorithm, length, exportable, kcv: '' };
    const template = this.#secretTemplate(keyId, partial).filter((a) => a.type !== c.CKA_KEY_TYPE);
    if (input.algorithm === 'aes') template.push({ type: c.CKA_VALUE_LEN, value: length });
    const mechanism =
      input.algorithm === 'aes' ? c.CKM_AES_KEY_GEN : length === 16 ? c.CKM_DES2_KEY_GEN : c.CKM_DES3_KEY_GEN;
    const handle = this.#p.C_GenerateKey(this.#session, { mechanism }, template);
    return this.#attributes(keyId, handle, partial);
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
    const keyId = this.#newId(input.keyId);
    const partial = {
      usage: input.usage,
      algorithm: input.algorithm,
      length,
      exportable: input.exportable === true,
    };
    // The components are combined here and the key is created on the token, as a key loading
    // device would; the combined value is wiped once the token holds it.
    const value = Buffer.from(components.slice(1).reduce((sum, part) => xor(sum, part), components[0]!));
    let handle: Handle;
    try {
      handle = this.#p.C_CreateObject(this.#session, [
        ...this.#secretTemplate(keyId, { ...partial, kcv: '' }),
        { type: this.#c.CKA_VALUE, value },
      ]);
    } finally {
      value.fill(0);
    }
    const attributes = this.#attributes(keyId, handle, partial);
    if (input.kcv !== undefined && input.kcv.toUpperCase() !== attributes.kcv) {
      this.#p.C_DestroyObject(this.#session, handle);
      throw new HsmError('ERR_HSM_KCV_MISMATCH', 'the combined key does not have the expected check value');
    }
    return attributes;
  }

  async importKey(): Promise<KeyAttributes> {
    throw unsupported('TR-31 key block import');
  }

  async exportKey(input: { readonly keyId: string }): Promise<string> {
    const key = this.#key(input.keyId);
    if (!key.attributes.exportable) {
      throw new HsmError('ERR_HSM_NOT_EXPORTABLE', `key ${input.keyId} is not exportable`);
    }
    throw unsupported('TR-31 key block export');
  }

  async getKey(keyId: string): Promise<KeyAttributes> {
    return this.#key(keyId).attributes;
  }

  async listKeys(): Promise<readonly KeyAttributes[]> {
    if (this.#closed) throw new HsmError('ERR_HSM_CLOSED', 'the HSM is closed');
    const c = this.#c;
    const labels: string[] = [];
    for (const objectClass of [c.CKO_SECRET_KEY, c.CKO_PRIVATE_KEY]) {
      this.#p.C_FindObjectsInit(this.#session, [
        { type: c.CKA_CLASS, value: objectClass },
        { type: c.CKA_TOKEN, value: true },
      ]);
      const handles = this.#p.C_FindObjects(this.#session, 10_000);
      this.#p.C_FindObjectsFinal(this.#session);
      for (const handle of handles) {
        labels.push(this.#attribute(handle, c.CKA_LABEL).toString('utf8'));
      }
    }
    const keys: KeyAttributes[] = [];
    for (const label of labels.sort()) {
      try {
        keys.push(this.#key(label).attributes);
      } catch {
        // Objects that other applications put on the token are not listed.
      }
    }
    return keys;
  }

  async deleteKey(keyId: string): Promise<void> {
    const key = this.#key(keyId);
    this.#p.C_DestroyObject(this.#session, key.handle);
    const publicKey = this.#find(keyId, this.#c.CKO_PUBLIC_KEY);
    if (publicKey !== undefined) this.#p.C_DestroyObject(this.#session, publicKey);
  }

  /**
   * One AES block of derivation data encrypted under `base` into a new AES-128 key object, with
   * CKM_AES_CBC_ENCRYPT_DATA and a zero IV (one block: the ECB result that EMV Book 2 A1.3 and
   * A1.4 define). The derived value never leaves the token.
   */
  #deriveAes(base: Handle, block: Uint8Array, template: Pkcs11Module.Template): Handle {
    const c = this.#c;
    return this.#p.C_DeriveKey(
      this.#session,
      {
        mechanism: c.CKM_AES_CBC_ENCRYPT_DATA,
        parameter: {
          type: c.CK_PARAMS_AES_CBC,
          iv: Buffer.alloc(16),
          data: Buffer.from(block),
        } as Pkcs11Module.AesCBC,
      },
      base,
      [
        { type: c.CKA_CLASS, value: c.CKO_SECRET_KEY },
        { type: c.CKA_KEY_TYPE, value: c.CKK_AES },
        { type: c.CKA_VALUE_LEN, value: 16 },
        { type: c.CKA_SENSITIVE, value: true },
        { type: c.CKA_EXTRACTABLE, value: false },
        { type: c.CKA_SIGN, value: true },
        { type: c.CKA_DERIVE, value: true },
        ...template,
      ],
    );
  }

  /** EMV Book 2 A1.4.1 Option A for an AES IMK: MK = AES(IMK)[Y || (Y xor FF..FF)]. */
  #iccMasterKey(
    imk: KeyAttributes,
    handle: Handle,
    pan: string,
    psn: string,
    template: Pkcs11Module.Template,
  ): Handle {
    if (imk.algorithm !== 'aes' || imk.length !== 16) {
      throw unsupported('EMV derivation from a TDEA issuer master key');
    }
    const y = derivationInput(pan, psn, 'a');
    const block = new Uint8Array(16);
    block.set(y, 0);
    for (let i = 0; i < 8; i++) block[8 + i] = y[i]! ^ 0xff;
    return this.#deriveAes(handle, block, template);
  }

  async deriveIccMasterKey(input: DeriveIccMasterKeyInput): Promise<KeyAttributes> {
    const imk = this.#key(input.imkId);
    requireUsage(imk.attributes, 'imk-ac');
    const keyId = this.#newId(input.keyId);
    const partial = {
      usage: 'icc-mk-ac',
      algorithm: 'aes',
      length: 16,
      exportable: input.exportable === true,
    } as const;
    const handle = this.#iccMasterKey(imk.attributes, imk.handle, input.pan, input.psn, [
      { type: this.#c.CKA_TOKEN, value: true },
      { type: this.#c.CKA_PRIVATE, value: true },
      { type: this.#c.CKA_LABEL, value: keyId },
    ]);
    return this.#attributes(keyId, handle, partial);
  }

  #cmac(handle: Handle, data: Uint8Array): Uint8Array {
    this.#p.C_SignInit(this.#session, { mechanism: this.#c.CKM_AES_CMAC }, handle);
    return new Uint8Array(this.#p.C_Sign(this.#session, Buffer.from(data), Buffer.alloc(16)));
  }

  /**
   * AES cryptograms (CVN 22, EMV Book 2 A1.2.2 and A1.3.1) on the token: the ICC master key and
   * the session key are derived as session objects with CKM_AES_CBC_ENCRYPT_DATA, the cryptogram
   * is CKM_AES_CMAC truncated to 8 bytes, and ARPC method 2 is CKM_AES_CMAC truncated to 4.
   */
  async verifyArqc(input: VerifyArqcInput): Promise<VerifyArqcResult> {
    const imk = this.#key(input.imkId);
    requireUsage(imk.attributes, 'imk-ac');
    const version = findCryptogramVersion(input.cvn);
    if (imk.attributes.algorithm !== 'aes')
      throw unsupported('EMV cryptograms under a TDEA issuer master key');
    if (version.sessionKey === 'mastercard') {
      throw new HsmError('ERR_HSM_CVN', 'the Mastercard session key is defined for triple DES only');
    }
    if (!(input.data instanceof Uint8Array) || !(input.arqc instanceof Uint8Array)) {
      throw new HsmError('ERR_HSM_DATA', 'data and ARQC must be byte arrays');
    }
    const r = atcDiversifier(input.atc, 'aes');
    r[2] = 0xf0;
    const session = [{ type: this.#c.CKA_TOKEN, value: false }];
    const objects: Handle[] = [];
    try {
      const icc = this.#iccMasterKey(imk.attributes, imk.handle, input.pan, input.psn, session);
      objects.push(icc);
      const sessionKey = version.sessionKey === 'none' ? icc : this.#deriveAes(icc, r, session);
      objects.push(sessionKey);
      const expected = this.#cmac(sessionKey, input.data).subarray(0, 8);
      if (!constantTimeEqual(expected, input.arqc)) throw new HsmVerificationError();
      if (input.arpc === undefined) return {};
      if (input.arpc.method === 1)
        throw new HsmError('ERR_HSM_ARPC', 'ARPC method 1 is defined for TDEA keys');
      const proprietary = input.arpc.proprietaryData ?? new Uint8Array(0);
      if (input.arpc.cardStatusUpdate.length !== 4 || proprietary.length > 8) {
        throw new HsmError('ERR_HSM_ARPC', 'card status update is 4 bytes, proprietary data at most 8');
      }
      // EMV Book 2 8.2.2: MAC over ARQC || CSU || proprietary authentication data.
      const data = Buffer.concat([input.arqc, input.arpc.cardStatusUpdate, proprietary]);
      return { arpc: this.#cmac(sessionKey, data).slice(0, 4) };
    } finally {
      for (const object of new Set(objects)) this.#p.C_DestroyObject(this.#session, object);
    }
  }

  #mac(input: MacInput): Uint8Array {
    const key = this.#key(input.keyId);
    requireUsage(key.attributes, 'mac');
    if (!(input.data instanceof Uint8Array)) throw new HsmError('ERR_HSM_DATA', 'data must be a Uint8Array');
    if (input.algorithm === 'iso9797-alg3') throw unsupported('ISO 9797-1 MAC algorithm 3');
    if (input.algorithm !== 'cmac') {
      throw new HsmError('ERR_HSM_MAC_ALGORITHM', 'MAC algorithm must be iso9797-alg3 or cmac');
    }
    // NIST SP 800-38B on the token: CKM_DES3_CMAC or CKM_AES_CMAC.
    const c = this.#c;
    const tdes = key.attributes.algorithm === 'tdes';
    this.#p.C_SignInit(this.#session, { mechanism: tdes ? c.CKM_DES3_CMAC : c.CKM_AES_CMAC }, key.handle);
    const full = new Uint8Array(this.#p.C_Sign(this.#session, Buffer.from(input.data), Buffer.alloc(16)));
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
      if (error instanceof HsmError && error.code === 'ERR_HSM_MAC_LENGTH') throw new HsmVerificationError();
      throw error;
    }
    if (!constantTimeEqual(expected, mac)) throw new HsmVerificationError();
  }

  #kek(kekId: string): Handle {
    const kek = this.#key(kekId);
    requireUsage(kek.attributes, 'data-key-wrap');
    return kek.handle;
  }

  /** A session (not token) AES key for a data key; readable only when `readable`. */
  #dataKeyTemplate(readable: boolean): Pkcs11Module.Template {
    const c = this.#c;
    return [
      { type: c.CKA_CLASS, value: c.CKO_SECRET_KEY },
      { type: c.CKA_KEY_TYPE, value: c.CKK_AES },
      { type: c.CKA_TOKEN, value: false },
      { type: c.CKA_SENSITIVE, value: !readable },
      { type: c.CKA_EXTRACTABLE, value: true },
    ];
  }

  #unwrapToSession(kekId: string, wrapped: Uint8Array, readable: boolean): Handle {
    const kek = this.#kek(kekId);
    if (!(wrapped instanceof Uint8Array) || ![24, 32, 40].includes(wrapped.length)) {
      throw new HsmError('ERR_HSM_UNWRAP', 'a wrapped data key is 24, 32 or 40 bytes');
    }
    try {
      return this.#p.C_UnwrapKey(
        this.#session,
        { mechanism: this.#c.CKM_AES_KEY_WRAP },
        kek,
        Buffer.from(wrapped),
        this.#dataKeyTemplate(readable),
      );
    } catch {
      throw new HsmError('ERR_HSM_UNWRAP', 'the wrapped data key does not open under this key');
    }
  }

  #wrap(kek: Handle, dataKey: Handle): Uint8Array {
    return new Uint8Array(
      this.#p.C_WrapKey(
        this.#session,
        { mechanism: this.#c.CKM_AES_KEY_WRAP },
        kek,
        dataKey,
        Buffer.alloc(64),
      ),
    );
  }

  #value(handle: Handle): Uint8Array {
    return new Uint8Array(this.#attribute(handle, this.#c.CKA_VALUE));
  }

  async generateDataKey(input: { readonly kekId: string; readonly length?: 16 | 24 | 32 }): Promise<DataKey> {
    const length = input.length ?? 32;
    if (![16, 24, 32].includes(length))
      throw new HsmError('ERR_HSM_KEY_LENGTH', 'a data key is 16, 24 or 32 bytes');
    const kek = this.#kek(input.kekId);
    const c = this.#c;
    const template = this.#dataKeyTemplate(true).filter((a) => a.type !== c.CKA_KEY_TYPE);
    const dataKey = this.#p.C_GenerateKey(this.#session, { mechanism: c.CKM_AES_KEY_GEN }, [
      ...template,
      { type: c.CKA_VALUE_LEN, value: length },
    ]);
    try {
      return { wrapped: this.#wrap(kek, dataKey), plaintext: this.#value(dataKey), kekId: input.kekId };
    } finally {
      this.#p.C_DestroyObject(this.#session, dataKey);
    }
  }

  async decryptDataKey(input: { readonly kekId: string; readonly wrapped: Uint8Array }): Promise<Uint8Array> {
    const dataKey = this.#unwrapToSession(input.kekId, input.wrapped, true);
    try {
      return this.#value(dataKey);
    } finally {
      this.#p.C_DestroyObject(this.#session, dataKey);
    }
  }

  async rewrapDataKey(input: {
    readonly fromKekId: string;
    readonly toKekId: string;
    readonly wrapped: Uint8Array;
  }): Promise<Uint8Array> {
    const to = this.#kek(input.toKekId);
    // C_UnwrapKey into a sensitive session object, C_WrapKey under the new KEK: the data key
    // stays on the token.
    const dataKey = this.#unwrapToSession(input.fromKekId, input.wrapped, false);
    try {
      return this.#wrap(to, dataKey);
    } finally {
      this.#p.C_DestroyObject(this.#session, dataKey);
    }
  }

  #pinKey(keyId: string, format: EncipheredPinBlockFormat): Handle {
    const key = this.#key(keyId);
    requireUsage(key.attributes, 'pin-encryption');
    if ((format === 4) !== (key.attributes.algorithm === 'aes')) {
      throw new HsmError(
        'ERR_PIN_BLOCK_KEY',
        `PIN block format ${format} needs ${format === 4 ? 'an AES' : 'a TDEA'} key`,
      );
    }
    return key.handle;
  }

  async translatePinBlock(input: TranslatePinBlockInput): Promise<Uint8Array> {
    const from = this.#pinKey(input.from.keyId, input.from.format);
    const to = this.#pinKey(input.to.keyId, input.to.format);
    if (!(input.block instanceof Uint8Array) || input.block.length !== (input.from.format === 4 ? 16 : 8)) {
      throw new HsmError('ERR_PIN_BLOCK_LENGTH', 'the PIN block has the wrong length for its format');
    }
    // ISO 9564-1 with the token's ECB mechanisms: CKM_DES3_ECB for formats 0, 1, 3 and
    // CKM_AES_ECB for format 4 (C = E(E(PIN field) XOR PAN field), 9.4.2.3).
    let pin: string;
    if (input.from.format === 4) {
      const panField = encodeFormat4PanField(input.pan);
      const intermediate = xor(this.#ecb(from, 'aes', input.block, false), panField);
      pin = decodeFormat4PinField(this.#ecb(from, 'aes', intermediate, false));
    } else {
      const clear = this.#ecb(from, 'tdes', input.block, false);
      pin = decodePinBlock({ format: input.from.format, block: clear, pan: input.pan });
    }
    if (input.to.format === 4) {
      const panField = encodeFormat4PanField(input.pan);
      const pinField = encodeFormat4PinField({ pin, random: (n) => new Uint8Array(randomBytes(n)) });
      return this.#ecb(to, 'aes', xor(this.#ecb(to, 'aes', pinField, true), panField), true);
    }
    const clear = encodePinBlock({
      format: input.to.format,
      pin,
      pan: input.pan,
      random: (n) => new Uint8Array(randomBytes(n)),
    });
    return this.#ecb(to, 'tdes', clear, true);
  }

  #signingKey(keyId: string): Handle {
    const key = this.#key(keyId);
    requireUsage(key.attributes, 'signing');
    return key.handle;
  }

  async sign(input: { readonly keyId: string; readonly message: Uint8Array }): Promise<Uint8Array> {
    if (!(input.message instanceof Uint8Array))
      throw new HsmError('ERR_HSM_DATA', 'message must be a Uint8Array');
    const key = this.#signingKey(input.keyId);
    // CKM_ECDSA over the SHA-256 digest; the token returns r || s, encoded here as DER (RFC 3279).
    const digest = createHash('sha256').update(input.message).digest();
    this.#p.C_SignInit(this.#session, { mechanism: this.#c.CKM_ECDSA }, key);
    const raw = this.#p.C_Sign(this.#session, digest, Buffer.alloc(64));
    return derSignature(raw.subarray(0, 32), raw.subarray(32, 64));
  }

  async getPublicKey(keyId: string): Promise<Uint8Array> {
    this.#signingKey(keyId);
    const handle = this.#find(keyId, this.#c.CKO_PUBLIC_KEY);
    if (handle === undefined) throw new HsmError('ERR_HSM_KEY_NOT_FOUND', `no public key ${keyId}`);
    // CKA_EC_POINT is the DER OCTET STRING around the 65-byte uncompressed point.
    const octets = this.#attribute(handle, this.#c.CKA_EC_POINT);
    const raw = octets.length === 67 && octets[0] === 0x04 ? octets.subarray(2) : octets;
    return new Uint8Array(Buffer.concat([P256_SPKI_PREFIX, raw]));
  }

  async deriveSharedSecret(_input: {
    readonly keyId: string;
    readonly peerPublicKey: Uint8Array;
  }): Promise<Uint8Array> {
    // CKM_ECDH1_DERIVE needs a CK_ECDH1_DERIVE_PARAMS structure; not wired on this backend yet.
    throw unsupported('ECDH key agreement');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#p.C_CloseSession(this.#session);
    } finally {
      // Closing the last session logs the application out (PKCS#11 v2.40 5.6).
      releaseModule(this.#library);
    }
  }
}

/** One loaded, initialized module per library path, shared by the open handles. */
const loaded = new Map<string, { module: Pkcs11Module.PKCS11; users: number }>();

function acquireModule(c: Pkcs11, library: string): Pkcs11Module.PKCS11 {
  const entry = loaded.get(library);
  if (entry !== undefined) {
    entry.users += 1;
    return entry.module;
  }
  const module = new c.PKCS11();
  try {
    module.load(library);
    module.C_Initialize();
  } catch (cause) {
    throw new HsmError('ERR_HSM_PKCS11', 'the PKCS#11 module cannot be loaded', { cause });
  }
  loaded.set(library, { module, users: 1 });
  return module;
}

function releaseModule(library: string): void {
  const entry = loaded.get(library);
  if (entry === undefined) return;
  entry.users -= 1;
  if (entry.users > 0) return;
  loaded.delete(library);
  try {
    entry.module.C_Finalize();
  } finally {
    entry.module.close();
  }
}

function keyType(c: Pkcs11, algorithm: KeyAlgorithm, length: number): number {
  if (algorithm === 'aes') return c.CKK_AES;
  if (algorithm === 'tdes') return length === 16 ? c.CKK_DES2 : c.CKK_DES3;
  return c.CKK_EC;
}

/** An unsigned big-endian integer as a DER INTEGER (X.690 8.3). */
function derInteger(value: Uint8Array): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start += 1;
  const body = value.subarray(start);
  const pad = body[0]! >= 0x80 ? Buffer.from([0]) : Buffer.alloc(0);
  return Buffer.concat([Buffer.from([0x02, body.length + pad.length]), pad, body]);
}

function derSignature(r: Uint8Array, s: Uint8Array): Uint8Array {
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  return new Uint8Array(Buffer.concat([Buffer.from([0x30, body.length]), body]));
}
