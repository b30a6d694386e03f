import { createHash } from 'node:crypto';
import { constantTimeEqual } from '@amulet/bytes';
import { type CertID, OCSPRequest } from '@peculiar/asn1-ocsp';
import { AsnConvert } from '@peculiar/asn1-schema';
import { OID } from './oids.ts';
import { type ParsedCertificate, serialToHex } from './parse-certificate.ts';
import { PkiError } from './pki-error.ts';

/** One certificate asked about (RFC 6960 section 4.1.1, CertID). */
export interface OcspCertId {
  readonly hashAlgorithm: 'sha1' | 'sha256';
  readonly issuerNameHash: Uint8Array;
  readonly issuerKeyHash: Uint8Array;
  readonly serialHex: string;
  /** The parsed structure, echoed unchanged in the response. */
  readonly raw: CertID;
}

export interface OcspRequestInfo {
  readonly certIds: readonly OcspCertId[];
  /** The nonce extension's extnValue as sent (RFC 8954), echoed byte for byte. */
  readonly nonceExtnValue: Uint8Array | undefined;
}

/** At most this many certificates per request; more is refused as malformed. */
export const OCSP_MAX_REQUESTS = 16;

const HASHES: Record<string, 'sha1' | 'sha256'> = { [OID.sha1]: 'sha1', [OID.sha256]: 'sha256' };

/** Parses an OCSPRequest (RFC 6960 section 4.1.1). Signed requests are accepted, their signature ignored. */
export function parseOcspRequest(der: Uint8Array): OcspRequestInfo {
  let request: OCSPRequest;
  try {
    request = AsnConvert.parse(der, OCSPRequest);
  } catch (cause) {
    throw new PkiError('ERR_PKI_DER', 'OCSP request is not DER', { cause });
  }
  const list = request.tbsRequest.requestList;
  if (list.length === 0 || list.length > OCSP_MAX_REQUESTS) {
    throw new PkiError('ERR_PKI_DER', `OCSP request must ask about 1 to ${OCSP_MAX_REQUESTS} certificates`);
  }
  const certIds = list.map((item) => {
    const id = item.reqCert;
    const hashAlgorithm = HASHES[id.hashAlgorithm.algorithm];
    if (hashAlgorithm === undefined)
      throw new PkiError('ERR_PKI_ALGORITHM', 'OCSP CertID hash must be SHA-1 or SHA-256');
    return {
      hashAlgorithm,
      issuerNameHash: new Uint8Array(id.issuerNameHash.buffer),
      issuerKeyHash: new Uint8Array(id.issuerKeyHash.buffer),
      serialHex: serialToHex(new Uint8Array(id.serialNumber)),
      raw: id,
    };
  });
  const nonce = request.tbsRequest.requestExtensions?.find((e) => e.extnID === OID.ocspNonce);
  return {
    certIds,
    nonceExtnValue: nonce === undefined ? undefined : new Uint8Array(nonce.extnValue.buffer),
  };
}

/** True when `certId` names a certificate issued by `issuer` (RFC 6960 section 4.1.1). */
export function certIdMatchesIssuer(certId: OcspCertId, issuer: ParsedCertificate): boolean {
  const nameHash = createHash(certId.hashAlgorithm).update(issuer.subjectDer).digest();
  const keyHash = createHash(certId.hashAlgorithm).update(issuer.publicKeyBits).digest();
  return (
    constantTimeEqual(nameHash, certId.issuerNameHash) && constantTimeEqual(keyHash, certId.issuerKeyHash)
  );
}
