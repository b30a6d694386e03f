import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  Certificate,
  Extensions,
  Name,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import { type CertificateProfile, type ProfileOptions, profileExtensions } from './certificate-profile.ts';
import { buildName, type NameFields } from './distinguished-name.ts';
import { publicKeyFromSpki } from './ecdsa-verify.ts';
import type { ParsedCertificate } from './parse-certificate.ts';
import { PkiError } from './pki-error.ts';
import { signDer } from './sign-der.ts';
import { type Signer, signatureOid } from './signer.ts';

export interface IssueCertificateInput {
  readonly profile: CertificateProfile;
  readonly subject: NameFields;
  /** DER SubjectPublicKeyInfo of the key being certified (from a verified CSR). */
  readonly subjectPublicKeyInfo: Uint8Array;
  /** Positive serial number bytes, at most 20 (RFC 5280 section 4.1.2.2); the caller draws it. */
  readonly serialNumber: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The issuing CA certificate; omitted for a self-signed root. */
  readonly issuer?: ParsedCertificate;
  readonly options?: ProfileOptions;
}

/** Checks a serial number: 1 to 20 bytes, positive, minimal (RFC 5280 section 4.1.2.2). */
export function checkSerialNumber(serial: Uint8Array): void {
  const minimal = serial.length === 1 || !(serial[0] === 0 && (serial[1]! & 0x80) === 0);
  if (
    serial.length < 1 ||
    serial.length > 20 ||
    (serial[0]! & 0x80) !== 0 ||
    !minimal ||
    serial.every((b) => b === 0)
  ) {
    throw new PkiError(
      'ERR_PKI_ATTRIBUTE',
      'serial number must be a positive minimal integer of 1 to 20 bytes',
    );
  }
}

/**
 * Builds a TBSCertificate for one profile, has `signer` sign it and returns the DER certificate
 * (RFC 5280 section 4.1). The signer is the issuer's key (or the subject's own for a root).
 */
export async function issueCertificate(input: IssueCertificateInput, signer: Signer): Promise<Uint8Array> {
  checkSerialNumber(input.serialNumber);
  if (!(input.notBefore.getTime() < input.notAfter.getTime())) {
    throw new PkiError('ERR_PKI_ATTRIBUTE', 'notBefore must be before notAfter');
  }
  publicKeyFromSpki(input.subjectPublicKeyInfo);
  const spki = AsnConvert.parse(input.subjectPublicKeyInfo, SubjectPublicKeyInfo);
  const subjectKeyBits = new Uint8Array(spki.subjectPublicKey);
  const issuerKeyBits = input.issuer?.publicKeyBits ?? subjectKeyBits;
  const subject = buildName(input.subject);
  const issuer = input.issuer === undefined ? subject : AsnConvert.parse(input.issuer.subjectDer, Name);
  const algorithm = new AlgorithmIdentifier({ algorithm: signatureOid(signer.algorithm) });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: input.serialNumber.slice().buffer,
    signature: algorithm,
    issuer,
    // RFC 5280 4.1.2.5: asn1-x509's Time writes UTCTime before 2050, GeneralizedTime after.
    validity: new Validity({ notBefore: input.notBefore, notAfter: input.notAfter }),
    subject,
    subjectPublicKeyInfo: spki,
    extensions: new Extensions(
      profileExtensions(input.profile, subjectKeyBits, issuerKeyBits, input.options),
    ),
  });
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
  const signature = await signDer(signer, tbsDer);
  const certificate = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: algorithm,
    signatureValue: signature.slice().buffer,
  });
  return new Uint8Array(AsnConvert.serialize(certificate));
}
