import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildCrl,
  type CertificateProfile,
  issueCertificate,
  parseCertificate,
  type Signer,
  toPem,
} from '@amulet/pki';
import { atomicWrite } from './atomic-write.ts';
import { caPaths } from './ca-paths.ts';
import { type CaName, type CaState, journalPath, writeState } from './ca-state.ts';
import { openKeystore } from './certificate-authority.ts';
import type { KeyCurve, Keystore } from './keystore.ts';
import { RootOfTrustError } from './root-of-trust-error.ts';
import { randomSerialNumber } from './serial-number.ts';
import { BACKDATE_MS, CRL_LIFETIME_DAYS, DAY_MS, LIFETIME_DAYS, plusMs, wholeSeconds } from './validity.ts';

export interface KeyCeremonyOptions {
  readonly dir: string;
  /** Opens the software keystore in `<dir>/keys`; not needed when `keystore` is given. */
  readonly masterKey?: Uint8Array;
  /** Where the new CA keys are generated (e.g. a PKCS#11 keystore); software by default. */
  readonly keystore?: Keystore;
  /** The tenant (OEM) the device CA serves. */
  readonly tenantId: string;
  readonly organization: string;
  /** P-256 by default; P-384 is the documented option for the root. */
  readonly rootCurve: KeyCurve;
  readonly ocspUrl?: string;
  readonly crlUrl?: string;
  readonly now: Date;
}

/**
 * The key ceremony: creates the root, device CA and service CA keys in the keystore, the three
 * CA certificates, their first CRLs and the state file. The root key is used here, to sign the
 * two intermediates and the root CRL, and nowhere else: keys/root.key.json can then be moved
 * offline.
 */
export async function runKeyCeremony(options: KeyCeremonyOptions): Promise<string[]> {
  const paths = caPaths(options.dir);
  // A journal left without its state.json would be replayed into the new CA's state: refused too.
  if (
    existsSync(paths.certificate('root')) ||
    existsSync(paths.state) ||
    existsSync(journalPath(paths.state))
  ) {
    throw new RootOfTrustError('ERR_CA_EXISTS', 'this directory already holds a root of trust');
  }
  mkdirSync(options.dir, { recursive: true });
  const keystore = openKeystore(paths.keys, options);
  const { organization } = options;
  const now = wholeSeconds(options.now);
  const notBefore = plusMs(now, -BACKDATE_MS);
  const written: string[] = [];
  const write = (path: string, text: string): void => {
    atomicWrite(path, text);
    written.push(path);
  };

  const rootSigner = await keystore.generate('root', options.rootCurve);
  const keyWritten = (name: CaName): void => {
    // Only the software keystore writes key files; an HSM keeps its keys inside.
    const file = join(paths.keys, `${name}.key.json`);
    if (existsSync(file)) written.push(file);
  };
  keyWritten('root');
  const rootDer = await issueCertificate(
    {
      profile: { kind: 'root' },
      subject: { organization, commonName: `${organization} Root CA` },
      subjectPublicKeyInfo: rootSigner.publicKeySpki(),
      serialNumber: randomSerialNumber(),
      notBefore,
      notAfter: plusMs(now, LIFETIME_DAYS.root * DAY_MS),
    },
    rootSigner,
  );
  const root = parseCertificate(rootDer);
  write(paths.certificate('root'), toPem('CERTIFICATE', rootDer));

  const intermediates: { name: CaName; profile: CertificateProfile; commonName: string }[] = [
    {
      name: 'device-ca',
      profile: { kind: 'device-ca', tenantId: options.tenantId },
      commonName: `${organization} Device CA ${options.tenantId}`,
    },
    { name: 'service-ca', profile: { kind: 'service-ca' }, commonName: `${organization} Service CA` },
  ];
  const crlSigners: [CaName, Signer, Uint8Array][] = [['root', rootSigner, rootDer]];
  for (const { name, profile, commonName } of intermediates) {
    const signer = await keystore.generate(name, 'P-256');
    keyWritten(name);
    const der = await issueCertificate(
      {
        profile,
        subject: { organization, commonName },
        subjectPublicKeyInfo: signer.publicKeySpki(),
        serialNumber: randomSerialNumber(),
        notBefore,
        notAfter: plusMs(now, LIFETIME_DAYS[name === 'device-ca' ? 'device-ca' : 'service-ca'] * DAY_MS),
        issuer: root,
      },
      rootSigner,
    );
    write(paths.certificate(name), toPem('CERTIFICATE', der));
    crlSigners.push([name, signer, der]);
  }
  for (const [name, signer, der] of crlSigners) {
    const days = name === 'root' ? CRL_LIFETIME_DAYS.root : CRL_LIFETIME_DAYS.issuing;
    const crl = await buildCrl(
      {
        issuer: parseCertificate(der),
        entries: [],
        thisUpdate: now,
        nextUpdate: plusMs(now, days * DAY_MS),
        crlNumber: 1,
      },
      signer,
    );
    write(paths.crl(name), toPem('X509 CRL', crl));
  }
  const state: CaState = {
    version: 1,
    tenantId: options.tenantId,
    ...(options.ocspUrl === undefined ? {} : { ocspUrl: options.ocspUrl }),
    ...(options.crlUrl === undefined ? {} : { crlUrl: options.crlUrl }),
    crlNumbers: { root: 1, 'device-ca': 1, 'service-ca': 1 },
    issued: {},
    revoked: {},
  };
  writeState(paths.state, state);
  written.push(paths.state);
  return written;
}
