import { readFileSync } from 'node:fs';
import {
  buildCrl,
  buildOcspResponse,
  certIdMatchesIssuer,
  checkIdentifier,
  type DeviceAttributes,
  formatName,
  fromPem,
  issueCertificate,
  type NameFields,
  type OcspAnswer,
  type OcspCertStatus,
  ocspErrorResponse,
  type ParsedCertificate,
  parseCertificate,
  parseOcspRequest,
  type RevocationReason,
  SE_TYPES,
  type ServiceRole,
  type SeType,
  type Signer,
  toPem,
  verifyCsr,
} from '@amulet/pki';
import { atomicWrite } from './atomic-write.ts';
import { caPaths } from './ca-paths.ts';
import {
  appendEntry,
  type CaState,
  crlEntry,
  type IssuingCa,
  issuedEntry,
  type JournalEntry,
  journalSize,
  openStateFile,
  readJournalFrom,
  revocationEntry,
  stateVersionTag,
} from './ca-state.ts';
import type { Keystore } from './keystore.ts';
import { RootOfTrustError } from './root-of-trust-error.ts';
import { randomSerialNumber } from './serial-number.ts';
import { SoftwareKeystore } from './software-keystore.ts';
import {
  BACKDATE_MS,
  CRL_LIFETIME_DAYS,
  DAY_MS,
  LIFETIME_DAYS,
  OCSP_RESPONSE_LIFETIME_MS,
  plusMs,
  wholeSeconds,
} from './validity.ts';

/** What an enrollment asks for; fields left out of a device request come from the CSR subject. */
export type EnrollmentRequest =
  | {
      readonly profile: 'device';
      readonly csr: Uint8Array;
      readonly serialNumber?: string | undefined;
      readonly oemId?: string | undefined;
      readonly model?: string | undefined;
      readonly seType?: string | undefined;
    }
  | {
      readonly profile: 'service';
      readonly csr: Uint8Array;
      readonly commonName?: string | undefined;
      readonly roles?: readonly ServiceRole[];
      readonly dnsNames?: readonly string[];
    };

export interface IssuedCertificate {
  readonly serialHex: string;
  readonly der: Uint8Array;
  readonly pem: string;
}

export interface CertificateAuthorityOptions {
  readonly dir: string;
  /** Opens the software keystore in `<dir>/keys`; not needed when `keystore` is given. */
  readonly masterKey?: Uint8Array;
  /** Where the CA keys live (e.g. a PKCS#11 keystore); the software keystore by default. */
  readonly keystore?: Keystore;
  readonly clock?: () => Date;
}

interface OnlineCa {
  readonly certificate: ParsedCertificate;
  readonly signer: Signer;
}

/** The keystore an option set names: the one given, else the software keystore under the master key. */
export function openKeystore(
  keysDir: string,
  options: { readonly masterKey?: Uint8Array | undefined; readonly keystore?: Keystore | undefined },
): Keystore {
  if (options.keystore !== undefined) return options.keystore;
  if (options.masterKey === undefined)
    throw new RootOfTrustError('ERR_MASTER_KEY', 'a master key or a keystore is required');
  return new SoftwareKeystore(keysDir, options.masterKey);
}

function attributeError(message: string): RootOfTrustError {
  return new RootOfTrustError('ERR_ENROLL_ATTRIBUTE', message);
}

/**
 * The online CAs of a root of trust directory: the device CA and the service CA. The root key
 * is never loaded here. State lives in state.json and state.journal; the journal's new lines
 * are read when another process (a revocation from the command line) appends to it.
 */
export class CertificateAuthority {
  private readonly paths: ReturnType<typeof caPaths>;
  private readonly clock: () => Date;
  private readonly cas: Record<IssuingCa, OnlineCa>;
  private state: CaState;
  private stateTag: string;
  /** How far into state.journal `state` has read. */
  private journalOffset: number;

  private constructor(options: CertificateAuthorityOptions) {
    this.paths = caPaths(options.dir);
    this.clock = options.clock ?? (() => new Date());
    this.stateTag = stateVersionTag(this.paths.state);
    const opened = openStateFile(this.paths.state);
    this.state = opened.state;
    this.journalOffset = opened.journalOffset;
    const keystore = openKeystore(this.paths.keys, options);
    const load = (name: IssuingCa): OnlineCa => ({
      certificate: parseCertificate(
        fromPem(readFileSync(this.paths.certificate(name), 'utf8'), 'CERTIFICATE'),
      ),
      signer: keystore.load(name),
    });
    this.cas = { 'device-ca': load('device-ca'), 'service-ca': load('service-ca') };
  }

  static open(options: CertificateAuthorityOptions): CertificateAuthority {
    return new CertificateAuthority(options);
  }

  certificate(ca: IssuingCa): ParsedCertificate {
    return this.cas[ca].certificate;
  }

  /** Takes in what another process recorded since (its journal lines; a new snapshot in whole). */
  refresh(): void {
    const tag = stateVersionTag(this.paths.state);
    if (tag !== this.stateTag) {
      const opened = openStateFile(this.paths.state);
      this.state = opened.state;
      this.journalOffset = opened.journalOffset;
      this.stateTag = tag;
      return;
    }
    if (journalSize(this.paths.state) > this.journalOffset)
      this.journalOffset = readJournalFrom(this.paths.state, this.state, this.journalOffset);
  }

  /**
   * Records one change durably (state.journal, fsync) and reads the journal up to it, with any
   * line another process appended meanwhile. Each issuance costs one appended line however many
   * certificates were issued before (state.json was rewritten whole each time before).
   */
  private record(entry: JournalEntry): void {
    appendEntry(this.paths.state, entry);
    this.journalOffset = readJournalFrom(this.paths.state, this.state, this.journalOffset);
  }

  /** Verifies the CSR's own signature, then issues under the profile's CA. */
  async issue(request: EnrollmentRequest): Promise<IssuedCertificate> {
    this.refresh();
    const csr = verifyCsr(request.csr);
    const now = wholeSeconds(this.clock());
    const ca: IssuingCa = request.profile === 'device' ? 'device-ca' : 'service-ca';
    const online = this.cas[ca];
    let subject: NameFields;
    let profile: Parameters<typeof issueCertificate>[0]['profile'];
    if (request.profile === 'device') {
      const serialNumber = request.serialNumber ?? csr.subject.serialNumber;
      const oemId = request.oemId ?? csr.subject.organization;
      const model = request.model ?? csr.subject.commonName;
      const seType = request.seType ?? 'embedded';
      if (serialNumber === undefined || oemId === undefined || model === undefined) {
        throw attributeError(
          'a device certificate needs a serial number, an OEM and a model (options or CSR subject)',
        );
      }
      if (!(SE_TYPES as readonly string[]).includes(seType))
        throw attributeError(`SE type must be one of ${SE_TYPES.join(', ')}`);
      const tenantId = online.certificate.tenantId ?? this.state.tenantId;
      const attributes: DeviceAttributes = {
        oemId: checkIdentifier('oemId', oemId),
        model: checkIdentifier('model', model),
        seType: seType as SeType,
        tenantId,
      };
      subject = {
        organization: oemId,
        serialNumber: checkIdentifier('serialNumber', serialNumber),
        commonName: model,
      };
      profile = { kind: 'device', attributes };
    } else {
      const commonName = request.commonName ?? csr.subject.commonName;
      if (commonName === undefined)
        throw attributeError('a service certificate needs a common name (option or CSR subject)');
      subject = {
        ...(csr.subject.organization === undefined ? {} : { organization: csr.subject.organization }),
        commonName,
      };
      profile = { kind: 'service', roles: request.roles ?? [], dnsNames: request.dnsNames ?? [] };
    }
    const lifetimeDays = request.profile === 'device' ? LIFETIME_DAYS.device : LIFETIME_DAYS.service;
    const der = await issueCertificate(
      {
        profile,
        subject,
        subjectPublicKeyInfo: csr.subjectPublicKeyInfo,
        serialNumber: randomSerialNumber(),
        notBefore: plusMs(now, -BACKDATE_MS),
        notAfter: plusMs(now, lifetimeDays * DAY_MS),
        issuer: online.certificate,
        options: {
          ...(this.state.ocspUrl === undefined ? {} : { ocspUrl: this.state.ocspUrl }),
          ...(this.state.crlUrl === undefined
            ? {}
            : { crlUrl: `${this.state.crlUrl.replace(/\/$/, '')}/${ca}.crl` }),
        },
      },
      online.signer,
    );
    const issued = parseCertificate(der);
    const pem = toPem('CERTIFICATE', der);
    this.record(
      issuedEntry(this.state, issued.serialHex, {
        ca,
        profile: request.profile,
        subject: formatName(subject),
        issuedAt: now.toISOString(),
        notAfter: new Date(issued.notAfterMs).toISOString(),
        certificatePem: pem,
      }),
    );
    return { serialHex: issued.serialHex, der, pem };
  }

  /** Revokes an issued certificate and re-signs its CA's CRL. */
  async revoke(serialHex: string, reason: RevocationReason): Promise<void> {
    this.refresh();
    const key = serialHex.toUpperCase().replace(/^(00)+(?=.)/, '');
    const now = wholeSeconds(this.clock());
    const entry = revocationEntry(this.state, key, now.toISOString(), reason);
    this.record(entry);
    await this.writeCrl(entry.record.ca);
  }

  /** Re-signs both issuing CAs' CRLs (they expire after a week; run this daily). */
  async writeCrls(): Promise<void> {
    for (const ca of ['device-ca', 'service-ca'] as const) await this.writeCrl(ca);
  }

  private async writeCrl(ca: IssuingCa): Promise<void> {
    const now = wholeSeconds(this.clock());
    const next = crlEntry(this.state, ca);
    const entries = Object.entries(this.state.revoked)
      .filter(([, record]) => record.ca === ca)
      .map(([serialHex, record]) => ({
        serialHex,
        revokedAt: new Date(record.revokedAt),
        reason: record.reason,
      }));
    const crl = await buildCrl(
      {
        issuer: this.cas[ca].certificate,
        entries,
        thisUpdate: now,
        nextUpdate: plusMs(now, CRL_LIFETIME_DAYS.issuing * DAY_MS),
        crlNumber: next.number,
      },
      this.cas[ca].signer,
    );
    atomicWrite(this.paths.crl(ca), toPem('X509 CRL', crl));
    this.record(next);
  }

  /** The status of one serial number under one CA. */
  status(ca: IssuingCa, serialHex: string): OcspCertStatus {
    const issued = this.state.issued[serialHex];
    if (issued === undefined || issued.ca !== ca) return { status: 'unknown' };
    const revoked = this.state.revoked[serialHex];
    if (revoked === undefined) return { status: 'good' };
    return { status: 'revoked', revokedAt: new Date(revoked.revokedAt), reason: revoked.reason };
  }

  /**
   * Answers a DER OCSPRequest (RFC 6960 section 2.2), signed by the issuing CA itself. A request
   * about another issuer is answered `unauthorized`, a request that does not parse
   * `malformedRequest`.
   */
  async respondOcsp(requestDer: Uint8Array): Promise<Uint8Array> {
    this.refresh();
    let request: ReturnType<typeof parseOcspRequest>;
    try {
      request = parseOcspRequest(requestDer);
    } catch {
      return ocspErrorResponse('malformedRequest');
    }
    const first = request.certIds[0]!;
    const ca = (['device-ca', 'service-ca'] as const).find((name) =>
      certIdMatchesIssuer(first, this.cas[name].certificate),
    );
    if (ca === undefined) return ocspErrorResponse('unauthorized');
    const answers: OcspAnswer[] = request.certIds.map((certId) => ({
      certId,
      status: certIdMatchesIssuer(certId, this.cas[ca].certificate)
        ? this.status(ca, certId.serialHex)
        : { status: 'unknown' },
    }));
    const now = wholeSeconds(this.clock());
    return buildOcspResponse(
      {
        responder: this.cas[ca].certificate,
        answers,
        producedAt: now,
        thisUpdate: now,
        nextUpdate: plusMs(now, OCSP_RESPONSE_LIFETIME_MS),
        nonceExtnValue: request.nonceExtnValue,
      },
      this.cas[ca].signer,
    );
  }
}
