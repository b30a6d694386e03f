import { DER_TAG, type DerElement, derBytes, derChildren, readDerElement } from './der.ts';
import { type NameFields, nameFieldOf } from './distinguished-name.ts';

/**
 * The parts of a certificate that parseCertificate's checks and result are made from, whichever
 * reader made them: the strict one below, or the ASN.1 schema in parse-certificate.ts.
 */
export interface CertificateSkeleton {
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: string;
  readonly tbsSignatureAlgorithm: string;
  readonly signature: Uint8Array;
  readonly serial: Uint8Array;
  readonly issuerDer: Uint8Array;
  readonly subjectDer: Uint8Array;
  readonly issuer: NameFields;
  readonly subject: NameFields;
  readonly spki: Uint8Array;
  readonly publicKeyBits: Uint8Array;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  readonly extensions: readonly { id: string; critical: boolean; value: Uint8Array }[];
}

/** Outside the strict profile: the caller reads the certificate another way. */
class NotStrict extends Error {}

const TAG = {
  ...DER_TAG,
  /** [0] EXPLICIT Version and [3] EXPLICIT Extensions of a TBSCertificate (RFC 5280 4.1). */
  version: 0xa0,
  extensions: 0xa3,
} as const;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Reads an X.509 v1-v3 certificate in the plain DER that RFC 5280 section 4.1 describes:
 * definite minimal lengths, no unique identifiers, times as `YYMMDDHHMMSSZ` or `YYYYMMDDHHMMSSZ`,
 * bit strings with no unused bits, name values as UTF8String, PrintableString or IA5String.
 * Anything else gives undefined (not an error): the caller's general ASN.1 reader then decides,
 * so this reader changes how fast a certificate is read, never what is accepted or returned
 * (`test/strict-certificate.test.ts` compares the two on generated and damaged certificates).
 */
export function readStrictSkeleton(der: Uint8Array): CertificateSkeleton | undefined {
  try {
    return read(der);
  } catch {
    return undefined;
  }
}

function read(der: Uint8Array): CertificateSkeleton {
  const top = element(der, 0, der.length, TAG.sequence);
  if (top.end !== der.length) throw new NotStrict();
  const [tbsElement, algorithmElement, signatureElement, ...extra] = derChildren(der, top);
  if (tbsElement?.tag !== TAG.sequence || signatureElement === undefined || extra.length > 0)
    throw new NotStrict();
  const signatureAlgorithm = algorithmOid(der, algorithmElement);
  const signature = bitStringBytes(der, signatureElement);

  const parts = derChildren(der, tbsElement);
  let at = 0;
  if (parts[0]?.tag === TAG.version) {
    // [0] EXPLICIT Version: v1(0), v2(1), v3(2), one content byte.
    const inner = derChildren(der, parts[0]);
    const version = inner[0];
    if (inner.length !== 1 || version?.tag !== TAG.integer || version.end - version.contentStart !== 1)
      throw new NotStrict();
    if ((der[version.contentStart] ?? 9) > 2) throw new NotStrict();
    at = 1;
  }
  const [serialElement, tbsAlgorithm, issuerElement, validity, subjectElement, spkiElement, ...after] =
    parts.slice(at);
  if (serialElement?.tag !== TAG.integer || serialElement.end === serialElement.contentStart)
    throw new NotStrict();
  if (validity?.tag !== TAG.sequence || spkiElement?.tag !== TAG.sequence) throw new NotStrict();
  const [notBefore, notAfter, ...moreTimes] = derChildren(der, validity);
  if (moreTimes.length > 0) throw new NotStrict();
  const [keyAlgorithm, keyBits, ...moreKey] = derChildren(der, spkiElement);
  if (moreKey.length > 0) throw new NotStrict();
  algorithmOid(der, keyAlgorithm);
  // Only [3] extensions may follow (no issuerUniqueID [1] or subjectUniqueID [2]).
  if (after.length > 1 || (after.length === 1 && after[0]?.tag !== TAG.extensions)) throw new NotStrict();

  return {
    tbs: derBytes(der, tbsElement),
    signatureAlgorithm,
    tbsSignatureAlgorithm: algorithmOid(der, tbsAlgorithm),
    signature,
    serial: der.slice(serialElement.contentStart, serialElement.end),
    issuerDer: derBytes(der, nameElement(issuerElement)),
    subjectDer: derBytes(der, nameElement(subjectElement)),
    issuer: readName(der, issuerElement as DerElement),
    subject: readName(der, subjectElement as DerElement),
    spki: derBytes(der, spkiElement),
    publicKeyBits: bitStringBytes(der, keyBits),
    notBeforeMs: readTime(der, notBefore),
    notAfterMs: readTime(der, notAfter),
    extensions: after[0] === undefined ? [] : readExtensions(der, after[0]),
  };
}

function element(der: Uint8Array, offset: number, limit: number, tag: number): DerElement {
  const found = readDerElement(der, offset, limit);
  if (found.tag !== tag) throw new NotStrict();
  return found;
}

function nameElement(found: DerElement | undefined): DerElement {
  if (found?.tag !== TAG.sequence) throw new NotStrict();
  return found;
}

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }. */
function algorithmOid(der: Uint8Array, found: DerElement | undefined): string {
  if (found?.tag !== TAG.sequence) throw new NotStrict();
  const [oid, parameters, ...extra] = derChildren(der, found);
  if (oid === undefined || extra.length > 0) throw new NotStrict();
  // Parameters other than an OID (a named curve) or absent: left to the general reader.
  if (parameters !== undefined && parameters.tag !== TAG.oid) throw new NotStrict();
  if (parameters !== undefined) readOid(der, parameters);
  return readOid(der, oid);
}

/** X.690 section 8.19: the first two arcs in the first subidentifier, base-128 digits, minimal. */
function readOid(der: Uint8Array, found: DerElement): string {
  if (found.tag !== TAG.oid || found.end === found.contentStart) throw new NotStrict();
  const arcs: number[] = [];
  let value = 0;
  let fresh = true;
  for (let i = found.contentStart; i < found.end; i++) {
    const byte = der[i] as number;
    if (fresh && byte === 0x80) throw new NotStrict(); // a leading zero digit: not minimal
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new NotStrict();
    fresh = (byte & 0x80) === 0;
    if (fresh) {
      if (arcs.length === 0)
        arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  if (!fresh) throw new NotStrict();
  return arcs.join('.');
}

/** A BIT STRING's bits, with no unused bits in the last byte (signatures and EC points). */
function bitStringBytes(der: Uint8Array, found: DerElement | undefined): Uint8Array {
  if (found?.tag !== TAG.bitString || found.end === found.contentStart || der[found.contentStart] !== 0)
    throw new NotStrict();
  return der.slice(found.contentStart + 1, found.end);
}

/** RFC 5280 section 4.1.2.5: UTCTime (years 1950-2049) or GeneralizedTime, in UTC to the second. */
function readTime(der: Uint8Array, found: DerElement | undefined): number {
  if (found === undefined) throw new NotStrict();
  const text = ascii(der, found);
  let year: number;
  let rest: string;
  if (found.tag === TAG.utcTime && /^\d{12}Z$/.test(text)) {
    const yy = Number(text.slice(0, 2));
    year = yy < 50 ? 2000 + yy : 1900 + yy;
    rest = text.slice(2);
  } else if (found.tag === TAG.generalizedTime && /^\d{14}Z$/.test(text)) {
    year = Number(text.slice(0, 4));
    rest = text.slice(4);
  } else throw new NotStrict();
  const [month, day, hour, minute, second] = [0, 2, 4, 6, 8].map((i) => Number(rest.slice(i, i + 2))) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(ms);
  // A date that does not exist (month 13, 31 February, hour 24): left to the general reader.
  if (
    year < 1000 ||
    back.getUTCFullYear() !== year ||
    back.getUTCMonth() !== month - 1 ||
    back.getUTCDate() !== day ||
    back.getUTCHours() !== hour ||
    back.getUTCMinutes() !== minute ||
    back.getUTCSeconds() !== second
  )
    throw new NotStrict();
  return ms;
}

/** Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value }: the fields Amulet knows, last one wins. */
function readName(der: Uint8Array, name: DerElement): NameFields {
  const out: Partial<Record<keyof NameFields, string>> = {};
  for (const rdn of derChildren(der, name)) {
    if (rdn.tag !== TAG.set) throw new NotStrict();
    for (const attribute of derChildren(der, rdn)) {
      if (attribute.tag !== TAG.sequence) throw new NotStrict();
      const [type, value, ...extra] = derChildren(der, attribute);
      if (type === undefined || value === undefined || extra.length > 0) throw new NotStrict();
      const oid = readOid(der, type);
      const text = nameValue(der, value);
      const field = nameFieldOf(oid);
      if (field !== undefined) out[field] = text;
    }
  }
  return out as NameFields;
}

function nameValue(der: Uint8Array, value: DerElement): string {
  if (value.tag === TAG.utf8String) return utf8.decode(der.subarray(value.contentStart, value.end));
  if (value.tag === TAG.printableString || value.tag === TAG.ia5String) return ascii(der, value);
  throw new NotStrict();
}

/** Seven-bit text, as PrintableString, IA5String and the time types hold. */
function ascii(der: Uint8Array, found: DerElement): string {
  let text = '';
  for (let i = found.contentStart; i < found.end; i++) {
    const byte = der[i] as number;
    if (byte > 0x7e || byte < 0x20) throw new NotStrict();
    text += String.fromCharCode(byte);
  }
  return text;
}

/** [3] EXPLICIT Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension (RFC 5280 section 4.1.2.9). */
function readExtensions(
  der: Uint8Array,
  wrapper: DerElement,
): { id: string; critical: boolean; value: Uint8Array }[] {
  const [list, ...extra] = derChildren(der, wrapper);
  if (list?.tag !== TAG.sequence || extra.length > 0) throw new NotStrict();
  const out: { id: string; critical: boolean; value: Uint8Array }[] = [];
  for (const extension of derChildren(der, list)) {
    if (extension.tag !== TAG.sequence) throw new NotStrict();
    const parts = derChildren(der, extension);
    const [id, second, third, ...more] = parts;
    if (id === undefined || more.length > 0) throw new NotStrict();
    let critical = false;
    let value = second;
    if (third !== undefined) {
      // critical BOOLEAN DEFAULT FALSE: present only as TRUE in DER (X.690 section 11.5).
      if (second?.tag !== TAG.boolean || second.end - second.contentStart !== 1) throw new NotStrict();
      if (der[second.contentStart] !== 0xff) throw new NotStrict();
      critical = true;
      value = third;
    }
    if (value?.tag !== TAG.octetString) throw new NotStrict();
    out.push({ id: readOid(der, id), critical, value: der.slice(value.contentStart, value.end) });
  }
  if (out.length === 0) throw new NotStrict();
  return out;
}
