import { createCipheriv } from 'node:crypto';
import { type CommandApdu, encodeCommandApdu } from '@amulet/apdu';
import { concat } from '@amulet/bytes';
import { parseCertificate } from '@amulet/pki';
import { encodeTlv } from '@amulet/tlv';
import { ISD_AID } from './card-manager.ts';
import { generatePrivateScalar, pointFromSpki, publicPoint, spkiFromPoint } from './p256.ts';
import { hostKeyAgreement, SCP11_SECURITY_LEVEL, Scp11Kid, scp11ControlTemplate } from './scp11.ts';
import { SecureElementError } from './secure-element-error.ts';
import { Scp03HostChannel } from './secure-messaging.ts';

/** How the host reaches the SE: opaque APDU bytes out, response bytes back (a relay will do). */
export type ApduTransmit = (apdu: Uint8Array) => Promise<Uint8Array>;

export interface Scp11HostOptions {
  readonly transmit: ApduTransmit;
  /** Randomness for the ephemeral key ePK.OCE.ECKA. */
  readonly rng: (n: number) => Uint8Array;
  /**
   * Decides whether the SE's certificate chain (read with GET DATA BF21; given here device
   * certificate first) is to be trusted: typically a @amulet/pki chain verifier, purpose device.
   */
  readonly verifyCardCertificates: (chain: readonly Uint8Array[]) => boolean | Promise<boolean>;
  /** The key version of SK.SD.ECKA; 00 lets the card choose. */
  readonly keyVersion?: number;
  /**
   * SCP11a: the off-card entity's certified static key (the token service's loader). Its
   * certificates (leaf first, e.g. the loader's service certificate then the service CA) go to
   * the SE with PERFORM SECURITY OPERATION; without it the session is SCP11b.
   */
  readonly oce?: {
    readonly certificates: readonly Uint8Array[];
    /** SK.OCE.ECKA, the P-256 private scalar of the leaf certificate's key. */
    readonly privateKey?: Uint8Array;
    /**
     * Instead of `privateKey`, when SK.OCE.ECKA stays in an HSM: ECDH of it with the SE's key
     * (given as a DER SubjectPublicKeyInfo), returning the shared secret ShSes (32 bytes).
     */
    readonly keyAgreement?: (cardPublicKeySpki: Uint8Array) => Promise<Uint8Array>;
    /** The key reference of PK.OCE.ECKA (Amendment F 7.5.1); default KID 10, KVN 03. */
    readonly kid?: number;
    readonly kvn?: number;
  };
}

export interface HostResponse {
  readonly data: Uint8Array;
  readonly sw: number;
}

const MAX_RESPONSE_PARTS = 32;

function split(response: Uint8Array): HostResponse {
  if (response.length < 2) throw new SecureElementError('ERR_SE_RESPONSE', 'a response has at least 2 bytes');
  const sw = ((response[response.length - 2] ?? 0) << 8) | (response[response.length - 1] ?? 0);
  return { data: response.subarray(0, response.length - 2), sw };
}

/** Sends a plain command and gathers a long response with GET RESPONSE (ISO/IEC 7816-4 5.3.4). */
export async function transmitCollecting(transmit: ApduTransmit, apdu: Uint8Array): Promise<HostResponse> {
  let { data, sw } = split(await transmit(apdu));
  const parts = [data];
  for (let i = 0; (sw & 0xff00) === 0x6100; i++) {
    if (i >= MAX_RESPONSE_PARTS) throw new SecureElementError('ERR_SE_RESPONSE', 'the response is too long');
    ({ data, sw } = split(await transmit(Uint8Array.of(0x00, 0xc0, 0x00, 0x00, sw & 0xff))));
    parts.push(data);
  }
  return { data: concat(...parts), sw };
}

/** Splits concatenated DER certificates (each a SEQUENCE with a definite length, X.690 8.1.3). */
export function splitCertificates(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes[offset] !== 0x30 || out.length >= 4)
      throw new SecureElementError('ERR_SE_CERTIFICATE', 'the certificate store is malformed');
    const first = bytes[offset + 1] ?? 0;
    let length = first;
    let header = 2;
    if (first === 0x81 || first === 0x82) {
      header = first === 0x81 ? 3 : 4;
      length =
        first === 0x81
          ? (bytes[offset + 2] ?? 0)
          : ((bytes[offset + 2] ?? 0) << 8) | (bytes[offset + 3] ?? 0);
    } else if (first > 0x7f)
      throw new SecureElementError('ERR_SE_CERTIFICATE', 'the certificate store is malformed');
    if (offset + header + length > bytes.length)
      throw new SecureElementError('ERR_SE_CERTIFICATE', 'the certificate store is malformed');
    out.push(bytes.slice(offset, offset + header + length));
    offset += header + length;
  }
  return out;
}

/**
 * PERFORM SECURITY OPERATION (Amendment F 7.5.1): the OCE certificates, CAs first, one per
 * command, P2 b8 set while more follow; a certificate over 255 bytes goes in chained blocks
 * (CLA 90, ISO/IEC 7816-4 5.1.1.1).
 */
async function uploadOceCertificates(
  transmit: ApduTransmit,
  oce: NonNullable<Scp11HostOptions['oce']>,
): Promise<void> {
  const ordered = [...oce.certificates].reverse();
  for (const [i, certificate] of ordered.entries()) {
    const p2 = (oce.kid ?? 0x10) | (i < ordered.length - 1 ? 0x80 : 0x00);
    for (let offset = 0; offset < certificate.length; offset += 255) {
      const last = offset + 255 >= certificate.length;
      const block = certificate.subarray(offset, Math.min(certificate.length, offset + 255));
      const response = split(
        await transmit(
          encodeCommandApdu({ cla: last ? 0x80 : 0x90, ins: 0x2a, p1: oce.kvn ?? 0x03, p2, data: block }),
        ),
      );
      if (response.sw !== 0x9000)
        throw new SecureElementError('ERR_SE_SCP11_OCE', 'the SE refused the off-card entity certificate');
    }
  }
}

/**
 * The off-card entity's end of an SCP11b session (GlobalPlatform Card Specification Amendment F):
 * SELECT the ISD, read and check CERT.SD.ECKA, INTERNAL AUTHENTICATE with an ephemeral key, check
 * the receipt, then every command goes wrapped (C-MAC, C-DECRYPTION) and every response is
 * unwrapped (R-MAC, R-ENCRYPTION). It needs nothing but `transmit`, so the APDUs can cross any
 * relay (the wallet, the phone) as opaque bytes. Commands must be sent one at a time.
 */
export class Scp11HostSession {
  /** 'A' when the OCE authenticated with its certificate, 'B' otherwise. */
  readonly variant: 'A' | 'B';
  readonly #transmit: ApduTransmit;
  readonly #channel: Scp03HostChannel;
  readonly #dek: Uint8Array;
  /** The receipt of the key agreement: it names this session in the SE's confirmations. */
  readonly receipt: Uint8Array;
  /** PK.SD.ECKA, the SE's certified key (uncompressed point). */
  readonly cardPublicKey: Uint8Array;
  /** The SE's certificate chain, device certificate first, as checked. */
  readonly cardCertificates: readonly Uint8Array[];

  private constructor(init: {
    variant: 'A' | 'B';
    transmit: ApduTransmit;
    channel: Scp03HostChannel;
    dek: Uint8Array;
    receipt: Uint8Array;
    cardPublicKey: Uint8Array;
    cardCertificates: readonly Uint8Array[];
  }) {
    this.variant = init.variant;
    this.#transmit = init.transmit;
    this.#channel = init.channel;
    this.#dek = init.dek;
    this.receipt = init.receipt;
    this.cardPublicKey = init.cardPublicKey;
    this.cardCertificates = init.cardCertificates;
  }

  static async open(options: Scp11HostOptions): Promise<Scp11HostSession> {
    const { transmit, oce } = options;
    if (oce !== undefined && oce.privateKey === undefined && oce.keyAgreement === undefined)
      throw new SecureElementError('ERR_SE_SCP11_OCE', 'the off-card entity has no key');
    const select = split(
      await transmit(encodeCommandApdu({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: ISD_AID, le: 256 })),
    );
    if (select.sw !== 0x9000)
      throw new SecureElementError('ERR_SE_SCP11_CARD', 'the security domain did not answer');
    const variant = options.oce === undefined ? 'B' : 'A';
    const kid = Scp11Kid[variant];
    const kvn = options.keyVersion ?? 0;
    // Amendment F 7.4.1: GET DATA BF21 with the key reference 83 {KID, KVN}.
    const store = await transmitCollecting(
      transmit,
      encodeCommandApdu({
        cla: 0x80,
        ins: 0xca,
        p1: 0xbf,
        p2: 0x21,
        data: encodeTlv([{ tag: 'A6', children: [{ tag: '83', value: Uint8Array.of(kid, kvn) }] }]),
        le: 256,
      }),
    );
    if (store.sw !== 0x9000) throw new SecureElementError('ERR_SE_SCP11_CARD', 'the SE has no certificate');
    // The store lists the CAs first and the SE's own certificate last; verifiers want it first.
    const chain = splitCertificates(store.data).reverse();
    const leaf = chain[0];
    if (leaf === undefined || !(await options.verifyCardCertificates(chain)))
      throw new SecureElementError('ERR_SE_SCP11_CARD', 'the SE certificate is not trusted');
    let cardPublicKey: Uint8Array;
    try {
      cardPublicKey = pointFromSpki(parseCertificate(leaf).subjectPublicKeyInfo);
    } catch {
      throw new SecureElementError('ERR_SE_SCP11_CARD', 'the SE certificate is not trusted');
    }
    if (options.oce !== undefined) await uploadOceCertificates(transmit, options.oce);
    const ephemeral = generatePrivateScalar(options.rng);
    const commandData = encodeTlv([
      scp11ControlTemplate(variant),
      { tag: '5F49', value: publicPoint(ephemeral) },
    ]);
    // INTERNAL AUTHENTICATE (88) for SCP11b, MUTUAL AUTHENTICATE (82) for SCP11a (Amendment F 7.6, 7.5.2).
    const ins = variant === 'B' ? 0x88 : 0x82;
    const auth = split(
      await transmit(encodeCommandApdu({ cla: 0x80, ins, p1: kvn, p2: kid, data: commandData, le: 256 })),
    );
    if (auth.sw !== 0x9000)
      throw new SecureElementError('ERR_SE_SCP11_RECEIPT', 'the card did not prove its key');
    const staticSharedSecret =
      oce?.privateKey === undefined && oce?.keyAgreement !== undefined
        ? await oce.keyAgreement(spkiFromPoint(cardPublicKey))
        : undefined;
    const { keys, receipt } = hostKeyAgreement({
      commandData,
      responseData: auth.data,
      oceEphemeralKey: ephemeral,
      ...(oce?.privateKey === undefined ? {} : { oceStaticKey: oce.privateKey }),
      ...(staticSharedSecret === undefined ? {} : { staticSharedSecret }),
      sdPublicKey: cardPublicKey,
    });
    staticSharedSecret?.fill(0);
    return new Scp11HostSession({
      variant,
      transmit,
      channel: new Scp03HostChannel(keys, receipt, SCP11_SECURITY_LEVEL),
      dek: keys.dek,
      receipt,
      cardPublicKey,
      cardCertificates: chain,
    });
  }

  /**
   * Sends one command inside the channel and returns the plain response. A response without a
   * valid R-MAC ends the session (`ERR_SE_CHANNEL`); a bare error status word (the SE refused,
   * or closed the channel) is returned with no data.
   */
  async send(command: CommandApdu): Promise<HostResponse> {
    const wrapped = this.#channel.wrapCommand(encodeCommandApdu(command));
    const response = split(await this.#transmit(wrapped));
    if (response.data.length === 0 && response.sw !== 0x9000) return { data: response.data, sw: response.sw };
    return { data: this.#channel.unwrapResponse(response.data, response.sw), sw: response.sw };
  }

  /** Encrypts a key under S-DEK (AES-CBC, zero ICV, whole blocks: Amendment D 7.2) for STORE DATA or PUT KEY. */
  encryptKey(key: Uint8Array): Uint8Array {
    if (key.length === 0 || key.length % 16 !== 0)
      throw new SecureElementError('ERR_SE_KEY', 'a key to encrypt is whole 16-byte blocks');
    const cipher = createCipheriv(`aes-${this.#dek.length * 8}-cbc`, this.#dek, new Uint8Array(16));
    cipher.setAutoPadding(false);
    return new Uint8Array(Buffer.concat([cipher.update(key), cipher.final()]));
  }

  get open(): boolean {
    return this.#channel.open;
  }
}
