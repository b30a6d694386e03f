import type { KeyObject } from 'node:crypto';
import { toHex } from '@amulet/bytes';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  KeyUsage,
  SubjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { DER_TAG, derBytes, derChildren, readDerTop } from './der.ts';
import { type DeviceAttributes, decodeDeviceAttributes, decodeUtf8String } from './device-attributes.ts';
import { type NameFields, readName } from './distinguished-name.ts';
import { isPlainEcPoint } from './ec-point-check.ts';
import { publicKeyFromSpki } from './ecdsa-verify.ts';
import { OID } from './oids.ts';
import { PkiError } from './pki-error.ts';
import { digestForSignatureOid } from './signer.ts';
import { type CertificateSkeleton, readStrictSkeleton } from './strict-certificate.ts';

/** What Amulet reads from an X.509 certificate (RFC 5280 section 4.1). */
export interface ParsedCertificate {
  readonly der: Uint8Array;
  /** The exact TBSCertificate bytes the signature covers. */
  readonly tbs: Uint8Array;
  readonly signatureDigest: 'sha256' | 'sha384';
  readonly signature: Uint8Array;
  /** The serial number's integer bytes as upper-case hex, leading zero bytes removed. */
  readonly serialHex: string;
  /** Exact DER of the issuer and subject Names, for chaining and OCSP CertID hashes. */
  readonly issuerDer: Uint8Array;
  readonly subjectDer: Uint8Array;
  readonly subject: NameFields;
  readonly issuer: NameFields;
  readonly subjectPublicKeyInfo: Uint8Array;
  /** The BIT STRING contents of the public key (RFC 6960 issuerKeyHash input). */
  readonly publicKeyBits: Uint8Array;
  readonly publicKey: KeyObject;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  readonly isCa: boolean;
  readonly pathLength: number | undefined;
  /** KeyUsage bits as in RFC 5280 section 4.2.1.3, bit 0 = digitalSignature = 1; undefined if absent. */
  readonly keyUsage: number | undefined;
  readonly extendedKeyUsage: readonly string[] | undefined;
  readonly subjectKeyId: Uint8Array | undefined;
  readonly authorityKeyId: Uint8Array | undefined;
  readonly deviceAttributes: DeviceAttributes | undefined;
  readonly tenantId: string | undefined;
  readonly ocspUrl: string | undefined;
  /** True when a critical extension Amulet does not process is present (RFC 5280 section 4.2). */
  readonly hasUnknownCriticalExtension: boolean;
}

const KNOWN_EXTENSIONS = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectKeyIdentifier,
  OID.authorityKeyIdentifier,
  OID.subjectAltName,
  OID.crlDistributionPoints,
  OID.authorityInfoAccess,
  OID.amuletDeviceAttributes,
  OID.amuletTenant,
]);

/** Integer bytes without the sign padding, as hex (RFC 5280 section 4.1.2.2). */
export function serialToHex(serial: Uint8Array): string {
  let start = 0;
  while (start < serial.length - 1 && serial[start] === 0) start++;
  return toHex(serial.subarray(start));
}

export function parseCertificate(der: Uint8Array): ParsedCertificate {
  try {
    return parseUnchecked(der);
  } catch (cause) {
    if (cause instanceof PkiError) throw cause;
    throw new PkiError('ERR_PKI_DER', 'certificate is not a DER X.509 certificate', { cause });
  }
}

function parseUnchecked(der: Uint8Array): ParsedCertificate {
  // The strict reader takes the plain DER of RFC 5280 that CAs issue, at about a tenth of the
  // cost; anything else it leaves to the ASN.1 schema, whose answer (or error) then stands.
  return fromSkeleton(der, readStrictSkeleton(der) ?? readSchemaSkeleton(der));
}

/** The certificate read through @peculiar/asn1-schema (any BER the library accepts). */
export function readSchemaSkeleton(der: Uint8Array): CertificateSkeleton {
  // RFC 5280 section 4.1: Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
  const top = readDerTop(der, DER_TAG.sequence, 'certificate');
  const [tbsElement] = derChildren(der, top);
  if (tbsElement === undefined) throw new PkiError('ERR_PKI_DER', 'certificate has no TBSCertificate');
  const tbsParts = derChildren(der, tbsElement);
  const skip = tbsParts[0]?.tag === 0xa0 ? 1 : 0; // [0] EXPLICIT version
  const issuerElement = tbsParts[skip + 2];
  const subjectElement = tbsParts[skip + 4];
  const spkiElement = tbsParts[skip + 5];
  if (issuerElement === undefined || subjectElement === undefined || spkiElement === undefined) {
    throw new PkiError('ERR_PKI_DER', 'TBSCertificate is missing fields');
  }
  const certificate = AsnConvert.parse(der, Certificate);
  const tbs = certificate.tbsCertificate;
  return {
    tbs: derBytes(der, tbsElement),
    signatureAlgorithm: certificate.signatureAlgorithm.algorithm,
    tbsSignatureAlgorithm: tbs.signature.algorithm,
    signature: new Uint8Array(certificate.signatureValue),
    serial: new Uint8Array(tbs.serialNumber),
    issuerDer: derBytes(der, issuerElement),
    subjectDer: derBytes(der, subjectElement),
    issuer: readName(tbs.issuer),
    subject: readName(tbs.subject),
    spki: derBytes(der, spkiElement),
    publicKeyBits: new Uint8Array(tbs.subjectPublicKeyInfo.subjectPublicKey),
    notBeforeMs: tbs.validity.notBefore.getTime().getTime(),
    notAfterMs: tbs.validity.notAfter.getTime().getTime(),
    extensions: (tbs.extensions ?? []).map((e) => ({
      id: e.extnID,
      critical: e.critical,
      value: new Uint8Array(e.extnValue.buffer),
    })),
  };
}

/** The checks and the fields Amulet reads, the same whichever reader made the skeleton. */
function fromSkeleton(der: Uint8Array, k: CertificateSkeleton): ParsedCertificate {
  const digest = digestForSignatureOid(k.signatureAlgorithm);
  if (digest === undefined || k.tbsSignatureAlgorithm !== k.signatureAlgorithm) {
    throw new PkiError(
      'ERR_PKI_ALGORITHM',
      'certificate signature algorithm must be ECDSA with SHA-256 or SHA-384',
    );
  }
  const spki = k.spki;
  let isCa = false;
  let pathLength: number | undefined;
  let keyUsage: number | undefined;
  let extendedKeyUsage: string[] | undefined;
  let subjectKeyId: Uint8Array | undefined;
  let authorityKeyId: Uint8Array | undefined;
  let deviceAttributes: DeviceAttributes | undefined;
  let tenantId: string | undefined;
  let ocspUrl: string | undefined;
  let hasUnknownCriticalExtension = false;
  const seen = new Set<string>();
  for (const extension of k.extensions) {
    const id = extension.id;
    if (seen.has(id)) throw new PkiError('ERR_PKI_DER', 'certificate repeats an extension'); // RFC 5280 4.2
    seen.add(id);
    const value = extension.value;
    if (!KNOWN_EXTENSIONS.has(id)) {
      if (extension.critical) hasUnknownCriticalExtension = true;
      continue;
    }
    switch (id) {
      case OID.basicConstraints: {
        const bc = AsnConvert.parse(value, BasicConstraints);
        isCa = bc.cA;
        pathLength = bc.pathLenConstraint;
        break;
      }
      case OID.keyUsage:
        keyUsage = AsnConvert.parse(value, KeyUsage).toNumber();
        break;
      case OID.extKeyUsage:
        extendedKeyUsage = [...AsnConvert.parse(value, ExtendedKeyUsage)];
        break;
      case OID.subjectKeyIdentifier:
        subjectKeyId = new Uint8Array(AsnConvert.parse(value, SubjectKeyIdentifier).buffer);
        break;
      case OID.authorityKeyIdentifier: {
        const aki = AsnConvert.parse(value, AuthorityKeyIdentifier).keyIdentifier;
        if (aki !== undefined) authorityKeyId = new Uint8Array(aki.buffer);
        break;
      }
      case OID.authorityInfoAccess:
        for (const access of AsnConvert.parse(value, AuthorityInfoAccessSyntax)) {
          if (access.accessMethod === OID.ocsp) ocspUrl = access.accessLocation.uniformResourceIdentifier;
        }
        break;
      case OID.amuletDeviceAttributes:
        deviceAttributes = decodeDeviceAttributes(value);
        break;
      case OID.amuletTenant:
        tenantId = decodeUtf8String(value, 'tenant extension');
        break;
    }
  }
  // A plain P-256/P-384 point, checked on its curve here, is imported by OpenSSL (about 125 µs)
  // only when something verifies with it: a device's own key is not needed to check its chain.
  // Any other form is imported now, and OpenSSL's refusal stands as before.
  let key = isPlainEcPoint(spki) ? undefined : publicKeyFromSpki(spki);
  return {
    der,
    tbs: k.tbs,
    signatureDigest: digest,
    signature: k.signature,
    serialHex: serialToHex(k.serial),
    issuerDer: k.issuerDer,
    subjectDer: k.subjectDer,
    subject: k.subject,
    issuer: k.issuer,
    subjectPublicKeyInfo: spki,
    publicKeyBits: k.publicKeyBits,
    get publicKey(): KeyObject {
      key ??= publicKeyFromSpki(spki);
      return key;
    },
    notBeforeMs: k.notBeforeMs,
    notAfterMs: k.notAfterMs,
    isCa,
    pathLength,
    keyUsage,
    extendedKeyUsage,
    subjectKeyId,
    authorityKeyId,
    deviceAttributes,
    tenantId,
    ocspUrl,
    hasUnknownCriticalExtension,
  };
}
