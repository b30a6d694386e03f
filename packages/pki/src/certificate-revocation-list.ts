import { fromHex } from '@amulet/bytes';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AuthorityKeyIdentifier,
  CertificateList,
  CRLNumber,
  CRLReason,
  Extension,
  KeyIdentifier,
  Name,
  RevokedCertificate,
  TBSCertList,
  Time,
  Version,
} from '@peculiar/asn1-x509';
import { keyIdentifier } from './certificate-profile.ts';
import { OID } from './oids.ts';
import type { ParsedCertificate } from './parse-certificate.ts';
import { REVOCATION_REASONS, type RevocationReason } from './revocation-reason.ts';
import { signDer } from './sign-der.ts';
import { type Signer, signatureOid } from './signer.ts';

export interface RevokedEntry {
  readonly serialHex: string;
  readonly revokedAt: Date;
  readonly reason: RevocationReason;
}

export interface CrlInput {
  readonly issuer: ParsedCertificate;
  readonly entries: readonly RevokedEntry[];
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** Monotonic CRL number (RFC 5280 section 5.2.3). */
  readonly crlNumber: number;
}

/** Serial hex (as stored) back to DER INTEGER contents, re-adding the sign byte if needed. */
export function serialFromHex(serialHex: string): Uint8Array {
  const bytes = fromHex(serialHex);
  return bytes.length > 0 && (bytes[0]! & 0x80) !== 0 ? Uint8Array.of(0, ...bytes) : bytes;
}

/** Builds and signs a version 2 CRL (RFC 5280 section 5.1) with AKI and CRL number. */
export async function buildCrl(input: CrlInput, signer: Signer): Promise<Uint8Array> {
  const algorithm = new AlgorithmIdentifier({ algorithm: signatureOid(signer.algorithm) });
  const revoked = input.entries.map(
    (entry) =>
      new RevokedCertificate({
        userCertificate: serialFromHex(entry.serialHex).slice().buffer,
        revocationDate: new Time(entry.revokedAt),
        // RFC 5280 section 5.3.1: reasonCode, omitted when unspecified.
        ...(entry.reason === 'unspecified'
          ? {}
          : {
              crlEntryExtensions: [
                new Extension({
                  extnID: OID.crlReason,
                  critical: false,
                  extnValue: new OctetString(
                    AsnConvert.serialize(new CRLReason(REVOCATION_REASONS[entry.reason])),
                  ),
                }),
              ],
            }),
      }),
  );
  const aki = new AuthorityKeyIdentifier({
    keyIdentifier: new KeyIdentifier(keyIdentifier(input.issuer.publicKeyBits)),
  });
  const tbs = new TBSCertList({
    version: Version.v2,
    signature: algorithm,
    issuer: AsnConvert.parse(input.issuer.subjectDer, Name),
    thisUpdate: new Time(input.thisUpdate),
    nextUpdate: new Time(input.nextUpdate),
    ...(revoked.length > 0 ? { revokedCertificates: revoked } : {}),
    crlExtensions: [
      new Extension({
        extnID: OID.authorityKeyIdentifier,
        critical: false,
        extnValue: new OctetString(AsnConvert.serialize(aki)),
      }),
      new Extension({
        extnID: OID.crlNumber,
        critical: false,
        extnValue: new OctetString(AsnConvert.serialize(new CRLNumber(input.crlNumber))),
      }),
    ],
  });
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
  const signature = await signDer(signer, tbsDer);
  const list = new CertificateList({
    tbsCertList: tbs,
    signatureAlgorithm: algorithm,
    signature: signature.slice().buffer,
  });
  return new Uint8Array(AsnConvert.serialize(list));
}
