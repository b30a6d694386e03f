import { createHash } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AccessDescription,
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  CRLDistributionPoints,
  DistributionPoint,
  DistributionPointName,
  ExtendedKeyUsage,
  Extension,
  GeneralName,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { type DeviceAttributes, encodeDeviceAttributes, encodeUtf8String } from './device-attributes.ts';
import { OID } from './oids.ts';

/** The roles a service certificate may carry besides TLS (docs/root-of-trust.md). */
export const SERVICE_ROLES = ['tsp-loader', 'tsp-encryption'] as const;
export type ServiceRole = (typeof SERVICE_ROLES)[number];

/** Each kind of certificate Amulet issues, with what its profile needs. */
export type CertificateProfile =
  | { readonly kind: 'root' }
  | { readonly kind: 'device-ca'; readonly tenantId: string }
  | { readonly kind: 'service-ca' }
  | { readonly kind: 'device'; readonly attributes: DeviceAttributes }
  | {
      readonly kind: 'service';
      readonly roles: readonly ServiceRole[];
      readonly dnsNames: readonly string[];
    };

export interface ProfileOptions {
  /** Written as the AIA id-ad-ocsp URL (RFC 5280 section 4.2.2.1) of end-entity certificates. */
  readonly ocspUrl?: string;
  /** Written as the CRL distribution point (RFC 5280 section 4.2.1.13) of end-entity certificates. */
  readonly crlUrl?: string;
}

/** SubjectKeyIdentifier method 1 of RFC 5280 section 4.2.1.2: SHA-1 of the key's BIT STRING. */
export function keyIdentifier(publicKeyBits: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha1').update(publicKeyBits).digest());
}

function extension(extnID: string, critical: boolean, value: unknown): Extension {
  const der = value instanceof Uint8Array ? value : new Uint8Array(AsnConvert.serialize(value));
  return new Extension({ extnID, critical, extnValue: new OctetString(der) });
}

const ROLE_OIDS: Record<ServiceRole, string> = {
  'tsp-loader': OID.amuletKpTspLoader,
  'tsp-encryption': OID.amuletKpTspEncryption,
};

/**
 * The extensions of one profile (docs/root-of-trust.md, "Certificate profiles"). `subjectKeyBits`
 * and `issuerKeyBits` are the BIT STRING contents of the subject's and issuer's public keys.
 */
export function profileExtensions(
  profile: CertificateProfile,
  subjectKeyBits: Uint8Array,
  issuerKeyBits: Uint8Array,
  options: ProfileOptions = {},
): Extension[] {
  const list: Extension[] = [];
  const isCa = profile.kind === 'root' || profile.kind === 'device-ca' || profile.kind === 'service-ca';
  // RFC 5280 section 4.2.1.9: critical in CA certificates; we mark it critical everywhere.
  list.push(
    extension(
      OID.basicConstraints,
      true,
      new BasicConstraints(
        isCa ? { cA: true, ...(profile.kind === 'root' ? {} : { pathLenConstraint: 0 }) } : { cA: false },
      ),
    ),
  );
  const usage = isCa
    ? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign | KeyUsageFlags.digitalSignature
    : profile.kind === 'device'
      ? KeyUsageFlags.digitalSignature | KeyUsageFlags.keyAgreement
      : KeyUsageFlags.digitalSignature;
  list.push(extension(OID.keyUsage, true, new KeyUsage(usage))); // RFC 5280 section 4.2.1.3
  list.push(
    extension(OID.subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyIdentifier(subjectKeyBits))),
  );
  if (profile.kind !== 'root') {
    const aki = new AuthorityKeyIdentifier({
      keyIdentifier: new KeyIdentifier(keyIdentifier(issuerKeyBits)),
    });
    list.push(extension(OID.authorityKeyIdentifier, false, aki)); // RFC 5280 section 4.2.1.1
  }
  if (profile.kind === 'device-ca')
    list.push(extension(OID.amuletTenant, false, encodeUtf8String(profile.tenantId)));
  if (profile.kind === 'device') {
    list.push(extension(OID.extKeyUsage, false, new ExtendedKeyUsage([OID.amuletKpDevice])));
    list.push(extension(OID.amuletDeviceAttributes, false, encodeDeviceAttributes(profile.attributes)));
  }
  if (profile.kind === 'service') {
    const purposes = [OID.serverAuth, OID.clientAuth, ...profile.roles.map((role) => ROLE_OIDS[role])];
    list.push(extension(OID.extKeyUsage, false, new ExtendedKeyUsage(purposes)));
    if (profile.dnsNames.length > 0) {
      const names = profile.dnsNames.map((dNSName) => new GeneralName({ dNSName }));
      list.push(extension(OID.subjectAltName, false, new SubjectAlternativeName(names)));
    }
  }
  if (!isCa && options.ocspUrl !== undefined) {
    const location = new GeneralName({ uniformResourceIdentifier: options.ocspUrl });
    const aia = new AuthorityInfoAccessSyntax([
      new AccessDescription({ accessMethod: OID.ocsp, accessLocation: location }),
    ]);
    list.push(extension(OID.authorityInfoAccess, false, aia));
  }
  if (!isCa && options.crlUrl !== undefined) {
    const fullName = [new GeneralName({ uniformResourceIdentifier: options.crlUrl })];
    const point = new DistributionPoint({ distributionPoint: new DistributionPointName({ fullName }) });
    list.push(extension(OID.crlDistributionPoints, false, new CRLDistributionPoints([point])));
  }
  return list;
}
