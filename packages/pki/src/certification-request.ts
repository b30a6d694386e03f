import { Attributes, CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { DER_TAG, derBytes, derChildren, readDerTop } from './der.ts';
import { buildName, type NameFields, readName } from './distinguished-name.ts';
import { publicKeyFromSpki, verifyEcdsa } from './ecdsa-verify.ts';
import { PkiError } from './pki-error.ts';
import { signDer } from './sign-der.ts';
import { digestForSignatureOid, type Signer, signatureOid } from './signer.ts';

/** A certification request whose self-signature has been verified (RFC 2986 section 4.2). */
export interface VerifiedCsr {
  readonly subject: NameFields;
  readonly subjectPublicKeyInfo: Uint8Array;
}

/** Builds a PKCS #10 request signed by the key it certifies (RFC 2986 section 4). */
export async function buildCsr(subject: NameFields, signer: Signer): Promise<Uint8Array> {
  const spki = AsnConvert.parse(signer.publicKeySpki(), SubjectPublicKeyInfo);
  const info = new CertificationRequestInfo({
    version: 0,
    subject: buildName(subject),
    subjectPKInfo: spki,
    attributes: new Attributes(),
  });
  const infoDer = new Uint8Array(AsnConvert.serialize(info));
  const signature = await signDer(signer, infoDer);
  const request = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: new AlgorithmIdentifier({ algorithm: signatureOid(signer.algorithm) }),
    signature: signature.slice().buffer,
  });
  return new Uint8Array(AsnConvert.serialize(request));
}

/**
 * Parses a PKCS #10 request and verifies its signature with the key it carries. A request whose
 * signature does not verify is refused with one fixed error, `ERR_PKI_CSR_SIGNATURE`.
 */
export function verifyCsr(der: Uint8Array): VerifiedCsr {
  let request: CertificationRequest;
  let infoDer: Uint8Array;
  try {
    const top = readDerTop(der, DER_TAG.sequence, 'certification request');
    const [infoElement] = derChildren(der, top);
    if (infoElement === undefined)
      throw new PkiError('ERR_PKI_DER', 'request has no CertificationRequestInfo');
    infoDer = derBytes(der, infoElement);
    request = AsnConvert.parse(der, CertificationRequest);
  } catch (cause) {
    if (cause instanceof PkiError) throw cause;
    throw new PkiError('ERR_PKI_DER', 'request is not a DER PKCS #10 certification request', { cause });
  }
  const info = request.certificationRequestInfo;
  if (info.version !== 0) throw new PkiError('ERR_PKI_DER', 'request version must be 0 (v1)');
  const digest = digestForSignatureOid(request.signatureAlgorithm.algorithm);
  if (digest === undefined) {
    throw new PkiError(
      'ERR_PKI_ALGORITHM',
      'request signature algorithm must be ECDSA with SHA-256 or SHA-384',
    );
  }
  const spki = new Uint8Array(AsnConvert.serialize(info.subjectPKInfo));
  const key = publicKeyFromSpki(spki);
  if (!verifyEcdsa(key, digest, infoDer, new Uint8Array(request.signature))) {
    throw new PkiError('ERR_PKI_CSR_SIGNATURE', 'certification request signature does not verify');
  }
  return { subject: readName(info.subject), subjectPublicKeyInfo: spki };
}
