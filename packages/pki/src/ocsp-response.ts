import {
  BasicOCSPResponse,
  CertStatus,
  OCSPResponse,
  OCSPResponseStatus,
  ResponderID,
  ResponseBytes,
  ResponseData,
  RevokedInfo,
  SingleResponse,
} from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, CRLReason, Extension } from '@peculiar/asn1-x509';
import { keyIdentifier } from './certificate-profile.ts';
import type { OcspCertId } from './ocsp-request.ts';
import { OID } from './oids.ts';
import type { ParsedCertificate } from './parse-certificate.ts';
import { REVOCATION_REASONS, type RevocationReason } from './revocation-reason.ts';
import { signDer } from './sign-der.ts';
import { type Signer, signatureOid } from './signer.ts';

export type OcspCertStatus =
  | { readonly status: 'good' }
  | { readonly status: 'revoked'; readonly revokedAt: Date; readonly reason: RevocationReason }
  | { readonly status: 'unknown' };

export interface OcspAnswer {
  readonly certId: OcspCertId;
  readonly status: OcspCertStatus;
}

export interface OcspResponseInput {
  /** The certificate whose key signs: the issuing CA itself, or a delegated OCSP signer. */
  readonly responder: ParsedCertificate;
  readonly answers: readonly OcspAnswer[];
  readonly producedAt: Date;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly nonceExtnValue?: Uint8Array | undefined;
  /** Certificates to include (RFC 6960 section 4.2.1, certs), e.g. a delegated signer's. */
  readonly certificates?: readonly Uint8Array[];
}

function certStatus(status: OcspCertStatus): CertStatus {
  if (status.status === 'good') return new CertStatus({ good: null });
  if (status.status === 'unknown') return new CertStatus({ unknown: null });
  return new CertStatus({
    revoked: new RevokedInfo({
      revocationTime: status.revokedAt,
      ...(status.reason === 'unspecified'
        ? {}
        : { revocationReason: new CRLReason(REVOCATION_REASONS[status.reason]) }),
    }),
  });
}

/** Builds and signs a successful BasicOCSPResponse (RFC 6960 section 4.2.1), responder by key hash. */
export async function buildOcspResponse(input: OcspResponseInput, signer: Signer): Promise<Uint8Array> {
  const data = new ResponseData({
    // RFC 6960 section 4.2.2.3: byKey is the SHA-1 of the responder's public key BIT STRING.
    responderID: new ResponderID({ byKey: new OctetString(keyIdentifier(input.responder.publicKeyBits)) }),
    producedAt: input.producedAt,
    responses: input.answers.map(
      (answer) =>
        new SingleResponse({
          certID: answer.certId.raw,
          certStatus: certStatus(answer.status),
          thisUpdate: input.thisUpdate,
          nextUpdate: input.nextUpdate,
        }),
    ),
    ...(input.nonceExtnValue === undefined
      ? {}
      : {
          responseExtensions: [
            new Extension({
              extnID: OID.ocspNonce,
              critical: false,
              extnValue: new OctetString(input.nonceExtnValue),
            }),
          ],
        }),
  });
  const dataDer = new Uint8Array(AsnConvert.serialize(data));
  const signature = await signDer(signer, dataDer);
  const basic = new BasicOCSPResponse({
    tbsResponseData: data,
    signatureAlgorithm: new AlgorithmIdentifier({ algorithm: signatureOid(signer.algorithm) }),
    signature: signature.slice().buffer,
    ...(input.certificates === undefined || input.certificates.length === 0
      ? {}
      : { certs: input.certificates.map((der) => AsnConvert.parse(der, Certificate)) }),
  });
  const response = new OCSPResponse({
    responseStatus: OCSPResponseStatus.successful,
    responseBytes: new ResponseBytes({
      responseType: OID.ocspBasic,
      response: new OctetString(AsnConvert.serialize(basic)),
    }),
  });
  return new Uint8Array(AsnConvert.serialize(response));
}

export type OcspErrorStatus = 'malformedRequest' | 'internalError' | 'tryLater' | 'unauthorized';

/** An unsigned error response (RFC 6960 section 4.2.1: no responseBytes). */
export function ocspErrorResponse(status: OcspErrorStatus): Uint8Array {
  return new Uint8Array(
    AsnConvert.serialize(new OCSPResponse({ responseStatus: OCSPResponseStatus[status] })),
  );
}
