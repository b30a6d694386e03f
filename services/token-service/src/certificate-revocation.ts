import { digestForSignatureOid, type ParsedCertificate, verifyEcdsa } from '@amulet/pki';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateList } from '@peculiar/asn1-x509';
import { TokenServiceError } from './token-service-error.ts';

/** A CRL whose signature verified: who issued it, until when it holds, and what it revokes. */
export interface LoadedCrl {
  /** Hex of the issuer's subject Name DER (the CA whose certificates it covers). */
  readonly issuerKey: string;
  readonly nextUpdateMs: number;
  /** Serial numbers as @amulet/pki prints them (upper-case hex, no sign byte). */
  readonly revoked: ReadonlySet<string>;
}

/** The byte range of the DER element at `offset` (X.690 8.1: tag, length, contents). */
function element(der: Uint8Array, offset: number): { start: number; end: number; contentStart: number } {
  let at = offset + 1;
  const first = der[at++];
  if (first === undefined) throw new RangeError('truncated');
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count < 1 || count > 4) throw new RangeError('bad length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (der[at++] ?? 0);
  }
  if (at + length > der.length) throw new RangeError('truncated');
  return { start: offset, end: at + length, contentStart: at };
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex').toUpperCase();

/**
 * Reads a CRL (RFC 5280 section 5) issued by one of `issuers` and checks its signature over the
 * exact TBSCertList bytes. A CRL that does not parse, names an unknown issuer or fails its
 * signature is refused (ERR_TSP_INPUT): configuration must not silently accept it.
 */
export function loadCrl(der: Uint8Array, issuers: readonly ParsedCertificate[]): LoadedCrl {
  let list: CertificateList;
  let tbs: Uint8Array;
  try {
    list = AsnConvert.parse(der, CertificateList);
    const outer = element(der, 0);
    // DER (X.690 10.1): one element, nothing after it.
    if (der[0] !== 0x30 || outer.end !== der.length) throw new RangeError('not one DER SEQUENCE');
    const inner = element(der, outer.contentStart);
    tbs = der.subarray(inner.start, inner.end);
  } catch (cause) {
    throw new TokenServiceError('ERR_TSP_INPUT', 'a configured CRL does not parse', { cause });
  }
  const issuerDer = new Uint8Array(AsnConvert.serialize(list.tbsCertList.issuer));
  const issuer = issuers.find((c) => hex(c.subjectDer) === hex(issuerDer));
  const digest = digestForSignatureOid(list.signatureAlgorithm.algorithm);
  if (
    issuer === undefined ||
    digest === undefined ||
    !verifyEcdsa(issuer.publicKey, digest, tbs, new Uint8Array(list.signature))
  )
    throw new TokenServiceError('ERR_TSP_INPUT', 'a configured CRL is not signed by a known CA');
  const revoked = new Set<string>();
  for (const entry of list.tbsCertList.revokedCertificates ?? []) {
    let serial = new Uint8Array(entry.userCertificate);
    while (serial.length > 1 && serial[0] === 0) serial = serial.subarray(1);
    revoked.add(hex(serial));
  }
  const next = list.tbsCertList.nextUpdate?.getTime();
  return {
    issuerKey: hex(issuer.subjectDer),
    nextUpdateMs: next === undefined ? Number.POSITIVE_INFINITY : next.getTime(),
    revoked,
  };
}
