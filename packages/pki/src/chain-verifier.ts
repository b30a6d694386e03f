import { constantTimeEqual } from '@amulet/bytes';
import { verifyEcdsa } from './ecdsa-verify.ts';
import { OID } from './oids.ts';
import { type ParsedCertificate, parseCertificate } from './parse-certificate.ts';

/** Why a chain is refused, in the order the checks run (docs/root-of-trust.md, "Verification order"). */
export const CHAIN_FAILURES = [
  'malformed',
  'unknown-ca',
  'bad-signature',
  'wrong-tenant',
  'not-yet-valid',
  'expired',
  'wrong-key-usage',
  'revoked',
] as const;
export type ChainFailure = (typeof CHAIN_FAILURES)[number];

export type RevocationStatus = 'good' | 'revoked' | 'unknown';
/** Revocation status of one certificate, e.g. from a cached OCSP response or a CRL. */
export type RevocationLookup = (serialHex: string, issuer: ParsedCertificate) => RevocationStatus;

/** What the end-entity certificate must be fit for. */
export type ChainPurpose = 'device' | 'service';

export interface ChainVerifierConfig {
  /** Root certificates (DER), trusted as they are. */
  readonly trustAnchors: readonly Uint8Array[];
  /** Intermediate CA certificates known in advance (DER); a chain may also carry its own. */
  readonly intermediates?: readonly Uint8Array[];
  /** When set, device chains must come from a device CA of this tenant. */
  readonly tenantId?: string;
  /** Bound on the cache of verified certificates (default 10 000). */
  readonly cacheEntriesMax?: number;
}

export interface ChainCheck {
  /** End-entity first, then its CAs; the trust anchor may be left out. */
  readonly chain: readonly Uint8Array[];
  readonly nowMs: number;
  readonly purpose: ChainPurpose;
  readonly revocation: RevocationLookup;
}

export type ChainResult =
  | {
      readonly status: 'valid';
      readonly leaf: ParsedCertificate;
      readonly path: readonly ParsedCertificate[];
    }
  | { readonly status: 'invalid'; readonly reason: ChainFailure };

export interface ChainVerifier {
  verify(check: ChainCheck): ChainResult;
}

const CHAIN_LENGTH_MAX = 4;
const KU_DIGITAL_SIGNATURE = 1; // RFC 5280 section 4.2.1.3, bit 0
const KU_KEY_CERT_SIGN = 32; // bit 5

function cacheKey(der: Uint8Array): string {
  return Buffer.from(der.buffer, der.byteOffset, der.length).toString('base64');
}

function issues(issuer: ParsedCertificate, child: ParsedCertificate): boolean {
  if (!constantTimeEqual(issuer.subjectDer, child.issuerDer)) return false;
  // RFC 5280 section 4.2.1.1: when both key identifiers exist they must agree.
  if (issuer.subjectKeyId !== undefined && child.authorityKeyId !== undefined) {
    return constantTimeEqual(issuer.subjectKeyId, child.authorityKeyId);
  }
  return true;
}

function fitForPurpose(leaf: ParsedCertificate, purpose: ChainPurpose): boolean {
  if (leaf.isCa) return false;
  if (leaf.keyUsage !== undefined && (leaf.keyUsage & KU_DIGITAL_SIGNATURE) === 0) return false;
  const eku = leaf.extendedKeyUsage;
  if (eku === undefined) return false;
  return purpose === 'device'
    ? eku.includes(OID.amuletKpDevice)
    : eku.includes(OID.serverAuth) || eku.includes(OID.clientAuth);
}

function fitAsCa(ca: ParsedCertificate, below: number): boolean {
  if (!ca.isCa) return false;
  if (ca.keyUsage !== undefined && (ca.keyUsage & KU_KEY_CERT_SIGN) === 0) return false;
  // RFC 5280 section 4.2.1.9: pathLenConstraint counts the intermediate CAs below this one.
  return ca.pathLength === undefined || below <= ca.pathLength;
}

/**
 * Verifies certificate chains against fixed trust anchors (a profile of RFC 5280 section 6 for
 * Amulet's two- and three-level hierarchies). Parsed certificates and verified signatures are
 * cached by their exact DER bytes, so a device seen before costs no parsing and no chain
 * signature check; dates, usage and revocation are checked on every call.
 */
export function createChainVerifier(config: ChainVerifierConfig): ChainVerifier {
  const anchors = config.trustAnchors.map((der) => parseCertificate(der));
  const known = (config.intermediates ?? []).map((der) => parseCertificate(der));
  const cacheMax = config.cacheEntriesMax ?? 10_000;
  const parsed = new Map<string, ParsedCertificate>();
  // child -> issuers whose signature on it verified; keyed by the cached parsed objects, so a
  // certificate seen again costs no string building and no signature check.
  const verifiedLinks = new Map<ParsedCertificate, ParsedCertificate[]>();
  const anchorKeys = new Set(anchors.map((a) => cacheKey(a.der)));

  function parseCached(der: Uint8Array): ParsedCertificate | undefined {
    const key = cacheKey(der);
    const hit = parsed.get(key);
    if (hit !== undefined) return hit;
    let certificate: ParsedCertificate;
    try {
      certificate = parseCertificate(der);
    } catch {
      return undefined;
    }
    if (parsed.size >= cacheMax) parsed.clear();
    parsed.set(key, certificate);
    return certificate;
  }

  function signatureValid(child: ParsedCertificate, issuer: ParsedCertificate): boolean {
    const issuers = verifiedLinks.get(child);
    if (issuers?.includes(issuer)) return true;
    if (!verifyEcdsa(issuer.publicKey, child.signatureDigest, child.tbs, child.signature)) return false;
    if (issuers !== undefined) issuers.push(issuer);
    else {
      if (verifiedLinks.size >= cacheMax) verifiedLinks.clear();
      verifiedLinks.set(child, [issuer]);
    }
    return true;
  }

  function verify(check: ChainCheck): ChainResult {
    const invalid = (reason: ChainFailure): ChainResult => ({ status: 'invalid', reason });
    // 1. malformed
    if (check.chain.length === 0 || check.chain.length > CHAIN_LENGTH_MAX) return invalid('malformed');
    const given: ParsedCertificate[] = [];
    for (const der of check.chain) {
      const certificate = parseCached(der);
      if (certificate === undefined || certificate.hasUnknownCriticalExtension) return invalid('malformed');
      given.push(certificate);
    }
    const leaf = given[0]!;
    // 2. unknown-ca: walk up by issuer name and key identifier until a trust anchor.
    const candidates = [...given.slice(1).filter((c) => !anchorKeys.has(cacheKey(c.der))), ...known];
    const path: ParsedCertificate[] = [leaf];
    let anchor: ParsedCertificate | undefined;
    while (anchor === undefined) {
      const current = path[path.length - 1]!;
      anchor = anchors.find((a) => issues(a, current));
      if (anchor !== undefined) break;
      const next = candidates.find((c) => !path.includes(c) && issues(c, current));
      if (next === undefined || path.length >= CHAIN_LENGTH_MAX) return invalid('unknown-ca');
      path.push(next);
    }
    // 3. bad-signature: every link, the anchor's key verifying the top one.
    for (let i = 0; i < path.length; i++) {
      if (!signatureValid(path[i]!, path[i + 1] ?? anchor)) return invalid('bad-signature');
    }
    // 4. wrong-tenant: the device CA's tenant, and the device's own attribute, must match.
    if (check.purpose === 'device' && config.tenantId !== undefined) {
      const issuingCa = path[1] ?? anchor;
      if (issuingCa.tenantId !== config.tenantId) return invalid('wrong-tenant');
      if (leaf.deviceAttributes !== undefined && leaf.deviceAttributes.tenantId !== config.tenantId) {
        return invalid('wrong-tenant');
      }
    }
    // 5, 6. validity periods, RFC 5280 section 4.1.2.5 (inclusive bounds).
    const all = [...path, anchor];
    if (all.some((c) => check.nowMs < c.notBeforeMs)) return invalid('not-yet-valid');
    if (all.some((c) => check.nowMs > c.notAfterMs)) return invalid('expired');
    // 7. wrong-key-usage, including a leaf from the wrong kind of CA: devices come from a device CA
    // (it carries the tenant extension), services from a CA without one.
    if (!fitForPurpose(leaf, check.purpose)) return invalid('wrong-key-usage');
    const issuedByDeviceCa = (path[1] ?? anchor).tenantId !== undefined;
    if (issuedByDeviceCa !== (check.purpose === 'device')) return invalid('wrong-key-usage');
    for (let i = 1; i < all.length; i++) {
      if (!fitAsCa(all[i]!, i - 1)) return invalid('wrong-key-usage');
    }
    // 8. revoked: every certificate below the anchor; anything but 'good' refuses.
    for (let i = 0; i < path.length; i++) {
      if (check.revocation(path[i]!.serialHex, path[i + 1] ?? anchor) !== 'good') return invalid('revoked');
    }
    return { status: 'valid', leaf, path: all };
  }

  return { verify };
}
