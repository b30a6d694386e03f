/**
 * Object identifiers Amulet uses. Standard ones cite their RFC; Amulet's own sit under a
 * PLACEHOLDER private enterprise number (1.3.6.1.4.1.99999) that must be replaced by a number
 * registered with IANA before any certificate leaves a test bench (docs/root-of-trust.md).
 */
export const OID = {
  // RFC 5758 section 3.2
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  // RFC 5480 section 2.1.1
  ecPublicKey: '1.2.840.10045.2.1',
  secp256r1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  // RFC 5280 section 4.1.2.4 / X.520 attribute types
  commonName: '2.5.4.3',
  serialNumber: '2.5.4.5',
  country: '2.5.4.6',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
  // RFC 5280 section 4.2.1
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  crlNumber: '2.5.29.20',
  crlReason: '2.5.29.21',
  crlDistributionPoints: '2.5.29.31',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  // RFC 5280 section 4.2.1.12
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  // RFC 6960 section 4.2.1 and 4.4.1
  ocsp: '1.3.6.1.5.5.7.48.1',
  ocspBasic: '1.3.6.1.5.5.7.48.1.1',
  ocspNonce: '1.3.6.1.5.5.7.48.1.2',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  // Amulet (PLACEHOLDER arc 1.3.6.1.4.1.99999)
  amuletDeviceAttributes: '1.3.6.1.4.1.99999.1.1',
  amuletTenant: '1.3.6.1.4.1.99999.1.2',
  amuletKpDevice: '1.3.6.1.4.1.99999.2.1',
  amuletKpTspLoader: '1.3.6.1.4.1.99999.2.2',
  amuletKpTspEncryption: '1.3.6.1.4.1.99999.2.3',
} as const;
