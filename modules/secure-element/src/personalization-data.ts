import { fromHex, toHex } from '@amulet/bytes';
import { decodeTlv, encodeTlv, type TlvNode } from '@amulet/tlv';
import { SecureElementError } from './secure-element-error.ts';
import type { SupportedCvn } from './state.ts';

/**
 * What STORE DATA carries to a new payment applet instance (GlobalPlatform Card Specification
 * 11.11, P1 b5-b4 = 10: BER-TLV), in one block:
 *
 *   DF01  token id (1..64 of A-Z a-z 0-9 . _ : -)        5A    DPAN (BCD, F-padded)
 *   DF02  CVN (1 byte: 17, 18 or 22)                      5F24  expiry YYMMDD (BCD)
 *   50    label (1..16 printable ASCII)                   5F34  PSN (BCD)
 *   DF03  MK-AC encrypted under S-DEK (16 bytes)          DF04  key check value of MK-AC (3 bytes)
 *
 * The key never travels in clear: DF03 is AES-CBC under the session's S-DEK with a zero ICV
 * (as keys are under the DEK in PUT KEY, Amendment D 7.2), and the whole command is encrypted
 * again by C-DECRYPTION.
 */
export interface PersonalizationData {
  readonly tokenId: string;
  readonly cvn: SupportedCvn;
  readonly label: string;
  readonly pan: string;
  /** YYMMDD. */
  readonly expiry: string;
  readonly psn: string;
  readonly encryptedMkAc: Uint8Array;
  readonly keyCheckValue: Uint8Array;
}

export const TOKEN_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
const LABEL_PATTERN = /^[\x20-\x7e]{1,16}$/;
const CVNS: readonly number[] = [17, 18, 22];

function invalid(): never {
  throw new SecureElementError('ERR_SE_PERSO_DATA', 'the personalization data is malformed');
}

function check(data: PersonalizationData): PersonalizationData {
  if (
    !TOKEN_ID_PATTERN.test(data.tokenId) ||
    !CVNS.includes(data.cvn) ||
    !LABEL_PATTERN.test(data.label) ||
    !/^[0-9]{12,19}$/.test(data.pan) ||
    !/^[0-9]{6}$/.test(data.expiry) ||
    !/^[0-9]{2}$/.test(data.psn) ||
    data.encryptedMkAc.length !== 16 ||
    data.keyCheckValue.length !== 3
  )
    invalid();
  return data;
}

export function encodePersonalizationData(data: PersonalizationData): Uint8Array {
  const d = check(data);
  const pan = d.pan.length % 2 === 0 ? d.pan : `${d.pan}F`;
  const nodes: TlvNode[] = [
    { tag: 'DF01', value: new TextEncoder().encode(d.tokenId) },
    { tag: 'DF02', value: Uint8Array.of(d.cvn) },
    { tag: '50', value: new TextEncoder().encode(d.label) },
    { tag: '5A', value: fromHex(pan) },
    { tag: '5F24', value: fromHex(d.expiry) },
    { tag: '5F34', value: fromHex(d.psn) },
    { tag: 'DF03', value: d.encryptedMkAc },
    { tag: 'DF04', value: d.keyCheckValue },
  ];
  return encodeTlv(nodes);
}

/** Decodes and checks STORE DATA; anything unexpected is the one `ERR_SE_PERSO_DATA`. */
export function decodePersonalizationData(bytes: Uint8Array): PersonalizationData {
  let nodes: ReturnType<typeof decodeTlv>;
  try {
    nodes = decodeTlv(bytes, { allowTrailingPadding: false, maxDepth: 1, maxLength: 64 });
  } catch {
    invalid();
  }
  const values = new Map<string, Uint8Array>();
  for (const node of nodes) {
    if (node.value === undefined || values.has(node.tag)) invalid();
    values.set(node.tag, node.value);
  }
  const get = (tag: string): Uint8Array => values.get(tag) ?? invalid();
  if (values.size !== 8) invalid();
  const ascii = (v: Uint8Array) => String.fromCharCode(...v);
  const panHex = toHex(get('5A'));
  const pan = panHex.endsWith('F') ? panHex.slice(0, -1) : panHex;
  const cvn = get('DF02');
  return check({
    tokenId: ascii(get('DF01')),
    cvn: (cvn.length === 1 ? cvn[0] : 0) as SupportedCvn,
    label: ascii(get('50')),
    pan,
    expiry: toHex(get('5F24')),
    psn: toHex(get('5F34')),
    encryptedMkAc: get('DF03'),
    keyCheckValue: get('DF04'),
  });
}
