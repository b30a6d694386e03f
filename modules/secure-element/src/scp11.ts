import { concat, constantTimeEqual, toHex } from '@amulet/bytes';
import { cmac } from '@amulet/emv';
import { decodeTlv, encodeTlv, type TlvNode } from '@amulet/tlv';
import { ecdh, generatePrivateScalar, publicPoint } from './p256.ts';
import { Scp03CardSession, type Scp03SessionKeys } from './scp03.ts';
import { SecureElementError } from './secure-element-error.ts';
import { x963Kdf } from './x963-kdf.ts';

/**
 * GlobalPlatform Secure Channel Protocol 11 (Card Specification v2.3 Amendment F): ECDH on
 * NIST P-256 between the security domain's key (SK.SD.ECKA, certified by CERT.SD.ECKA) and the
 * off-card entity (OCE), X9.63 KDF with SHA-256, a receipt, then SCP03 secure messaging.
 */

/** Key identifiers of the SD's ECKA key per variant (Amendment F 7.1.1, table 7-1 usage). */
export const Scp11Kid = { A: 0x11, B: 0x13, C: 0x15 } as const;
export type Scp11Variant = keyof typeof Scp11Kid;

/** The "SCP11 parameters" byte of tag 90 (Amendment F 6.5.2.1): 11b 00, 11a 01, 11c 03. */
const PARAMETERS: Readonly<Record<Scp11Variant, number>> = { A: 0x01, B: 0x00, C: 0x03 };

/** Key usage qualifier 3C: C-MAC, R-MAC, C-DECRYPTION, R-ENCRYPTION (Amendment F 6.5.2.2). */
export const SCP11_KEY_USAGE = 0x3c;
/** Key type 88: AES (GlobalPlatform Card Specification table 11-16). */
export const SCP11_KEY_TYPE_AES = 0x88;
/** Session keys of 16 bytes (AES-128). */
export const SCP11_KEY_LENGTH = 16;
/** SCP11 always runs secure messaging at the full level: C-MAC, C-DEC, R-MAC, R-ENC. */
export const SCP11_SECURITY_LEVEL = 0x33;

export interface Scp11SessionKeys extends Scp03SessionKeys {
  readonly receiptKey: Uint8Array;
  /** S-DEK: encrypts sensitive data (keys) inside commands. */
  readonly dek: Uint8Array;
}

/**
 * The session keys from ShSee || ShSes (Amendment F 6.5.2.3): X9.63 KDF with SHA-256 and
 * SharedInfo = key usage || key type || key length, 5 x 16 bytes in the order receipt key,
 * S-ENC, S-MAC, S-RMAC, S-DEK.
 */
export function scp11SessionKeys(shSee: Uint8Array, shSes: Uint8Array): Scp11SessionKeys {
  const sharedInfo = Uint8Array.of(SCP11_KEY_USAGE, SCP11_KEY_TYPE_AES, SCP11_KEY_LENGTH);
  const keyData = x963Kdf(concat(shSee, shSes), sharedInfo, 5 * SCP11_KEY_LENGTH);
  const key = (i: number) => keyData.slice(i * SCP11_KEY_LENGTH, (i + 1) * SCP11_KEY_LENGTH);
  return { receiptKey: key(0), sEnc: key(1), sMac: key(2), sRmac: key(3), dek: key(4) };
}

/** The control reference template A6 of the authenticate command (Amendment F 7.6.2.1, 7.5.2.1). */
export function scp11ControlTemplate(variant: Scp11Variant): TlvNode {
  return {
    tag: 'A6',
    children: [
      { tag: '90', value: Uint8Array.of(0x11, PARAMETERS[variant]) },
      { tag: '95', value: Uint8Array.of(SCP11_KEY_USAGE) },
      { tag: '80', value: Uint8Array.of(SCP11_KEY_TYPE_AES) },
      { tag: '81', value: Uint8Array.of(SCP11_KEY_LENGTH) },
    ],
  };
}

/** The receipt: AES-CMAC with the receipt key over the key agreement data (Amendment F 6.5.2.4). */
export function scp11Receipt(receiptKey: Uint8Array, keyAgreementData: Uint8Array): Uint8Array {
  return cmac('aes', receiptKey, keyAgreementData);
}

export interface CardKeyAgreement {
  /** The response data: 5F49 ePK.SD.ECKA || 86 receipt. */
  readonly response: Uint8Array;
  readonly session: Scp03CardSession;
  readonly receipt: Uint8Array;
  readonly dek: Uint8Array;
}

/**
 * The card's half of INTERNAL AUTHENTICATE (SCP11b) or MUTUAL AUTHENTICATE (SCP11a/c),
 * Amendment F 7.5 and 7.6. Data: A6 {90 11 xx, 95 3C, 80 88, 81 10} || 5F49 ePK.OCE.ECKA.
 * For SCP11b ShSes = ECDH(SK.SD, ePK.OCE); for SCP11a and c, ECDH(SK.SD, PK.OCE) with the OCE's
 * certified static key. Throws on any mismatch; the caller answers a status word.
 */
export function cardKeyAgreement(input: {
  readonly variant: Scp11Variant;
  readonly commandData: Uint8Array;
  readonly sdPrivateKey: Uint8Array;
  readonly ocePublicKey?: Uint8Array;
  readonly rng: (n: number) => Uint8Array;
}): CardKeyAgreement {
  const nodes = decodeTlv(input.commandData, { allowTrailingPadding: false, maxDepth: 2 });
  const [template, epk] = nodes;
  if (
    nodes.length !== 2 ||
    template?.tag !== 'A6' ||
    toHex(encodeTlv([template])) !== toHex(encodeTlv([scp11ControlTemplate(input.variant)])) ||
    epk?.tag !== '5F49' ||
    epk.value === undefined
  )
    throw new SecureElementError(
      'ERR_SE_SCP11_DATA',
      'the key agreement data is not as Amendment F describes',
    );
  const oceEphemeral = epk.value;
  const staticPeer = input.variant === 'B' ? oceEphemeral : input.ocePublicKey;
  if (staticPeer === undefined)
    throw new SecureElementError('ERR_SE_SCP11_STATE', 'no certified OCE key for this variant');
  const sdEphemeral = generatePrivateScalar(input.rng);
  const shSee = ecdh(sdEphemeral, oceEphemeral);
  const shSes = ecdh(input.sdPrivateKey, staticPeer);
  const keys = scp11SessionKeys(shSee, shSes);
  const epkSd = encodeTlv([{ tag: '5F49', value: publicPoint(sdEphemeral) }]);
  const receipt = scp11Receipt(keys.receiptKey, concat(input.commandData, epkSd));
  return {
    response: concat(epkSd, encodeTlv([{ tag: '86', value: receipt }])),
    session: Scp03CardSession.established(keys, receipt, SCP11_SECURITY_LEVEL),
    receipt,
    dek: keys.dek,
  };
}

/**
 * The host's check of the card's answer (Amendment F 6.5.2.4): derives the keys from its own
 * ephemeral (and, for SCP11a/c, static) private key and compares the receipt in constant time.
 * Any failure is the one fixed `ERR_SE_SCP11_RECEIPT`.
 */
export function hostKeyAgreement(input: {
  readonly commandData: Uint8Array;
  readonly responseData: Uint8Array;
  readonly oceEphemeralKey: Uint8Array;
  /** SCP11a/c: the OCE's static private key; SCP11b: absent (the ephemeral key is used). */
  readonly oceStaticKey?: Uint8Array;
  /**
   * SCP11a/c with the OCE's static key kept in an HSM: ShSes = ECDH(SK.OCE.ECKA, PK.SD.ECKA)
   * computed there (e.g. PKCS#11 CKM_ECDH1_DERIVE), used instead of `oceStaticKey`.
   */
  readonly staticSharedSecret?: Uint8Array;
  readonly sdPublicKey: Uint8Array;
}): { readonly keys: Scp11SessionKeys; readonly receipt: Uint8Array } {
  try {
    const nodes = decodeTlv(input.responseData, { allowTrailingPadding: false, maxDepth: 1 });
    const [epk, receiptNode] = nodes;
    if (nodes.length !== 2 || epk?.tag !== '5F49' || receiptNode?.tag !== '86') throw new Error('format');
    const epkSd = epk.value ?? new Uint8Array(0);
    const receipt = receiptNode.value ?? new Uint8Array(0);
    const shSee = ecdh(input.oceEphemeralKey, epkSd);
    const shSes =
      input.staticSharedSecret ?? ecdh(input.oceStaticKey ?? input.oceEphemeralKey, input.sdPublicKey);
    const keys = scp11SessionKeys(shSee, shSes);
    const expected = scp11Receipt(
      keys.receiptKey,
      concat(input.commandData, encodeTlv([{ tag: '5F49', value: epkSd }])),
    );
    if (receipt.length !== 16 || !constantTimeEqual(expected, receipt)) throw new Error('receipt');
    return { keys, receipt };
  } catch {
    throw new SecureElementError('ERR_SE_SCP11_RECEIPT', 'the card did not prove its key');
  }
}
