import type { Hsm } from '@amulet/hsm';
import { issueCertificate, type ParsedCertificate } from '@amulet/pki';
import { caPaths, openKeystore, randomSerialNumber } from '@amulet/root-of-trust';
import { DeviceCertificates, Scp11Loader, type SecureElementLoader, type World } from '@amulet/token-service';

const DAY_MS = 86_400_000;
export const LOADER_KEY_ID = 'tsp-loader-ecka';
export const LOADER_CERTIFICATE_FILE = 'tsp-loader.der';

/**
 * The provisioning step of the composition, in one place: the token service's SCP11 loader
 * (GlobalPlatform Card Specification Amendment F, SCP11a) with its static key SK.OCE.ECKA in the
 * token service's HSM and a service certificate (role `tsp-loader`) from the root of trust's
 * service CA. The Provisioner relays the loader's APDUs through the wallet and the phone as
 * opaque bytes; the SE trusts the loader because its chain leads to the root (`oceTrustAnchors`).
 *
 * The certificate is signed here with the service CA's key from the root of trust's keystore:
 * the CA's enrollment path takes a CSR, and a key-agreement key in the HSM cannot sign one
 * (RFC 2986 proof of possession), so the composition issues it directly once per data directory.
 */
export async function buildLoader(input: {
  readonly hsm: Hsm;
  readonly world: World;
  readonly caDir: string;
  readonly masterKey: Uint8Array;
  readonly serviceCa: ParsedCertificate;
  readonly deviceTrust: ConstructorParameters<typeof DeviceCertificates>[0];
  /** An earlier run's certificate for the same HSM key, if any. */
  readonly existingCertificate?: Uint8Array;
}): Promise<{ loader: SecureElementLoader; certificate: Uint8Array }> {
  const { hsm, world } = input;
  const hasKey = await hsm.getKey(LOADER_KEY_ID).then(
    () => true,
    () => false,
  );
  if (!hasKey) await hsm.generateKey({ keyId: LOADER_KEY_ID, algorithm: 'ec-p256', usage: 'key-agreement' });
  let certificate = hasKey ? input.existingCertificate : undefined;
  if (certificate === undefined) {
    const signer = openKeystore(caPaths(input.caDir).keys, { masterKey: input.masterKey }).load('service-ca');
    const now = world.now().getTime();
    certificate = await issueCertificate(
      {
        profile: { kind: 'service', roles: ['tsp-loader'], dnsNames: [] },
        subject: { organization: 'Amulet Demo', commonName: 'Token service loader' },
        subjectPublicKeyInfo: await hsm.getPublicKey(LOADER_KEY_ID),
        serialNumber: randomSerialNumber(),
        notBefore: new Date(now - DAY_MS),
        notAfter: new Date(now + 365 * DAY_MS),
        issuer: input.serviceCa,
      },
      signer,
    );
  }
  const devices = new DeviceCertificates(input.deviceTrust);
  const loader = new Scp11Loader({
    hsm,
    world,
    certificates: [certificate, input.serviceCa.der],
    keyAgreementKeyId: LOADER_KEY_ID,
    verifyDevice: (chain) => devices.verify(chain, world.now().getTime()),
  });
  return { loader, certificate };
}
