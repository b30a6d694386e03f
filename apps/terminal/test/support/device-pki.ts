import { generateKeyPairSync, sign } from 'node:crypto';
import { issueCertificate, type NameFields, parseCertificate, type Signer } from '@amulet/pki';

// The test device PKI (parties.ts): a root, a device CA for the tenant, one certificate per wearable.

/** A fresh ECDSA P-256 key as an @amulet/pki signer. */
function ecSigner(): Signer {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  return {
    algorithm: 'ES256',
    publicKeySpki: () => spki,
    sign: async (data) => new Uint8Array(sign('sha256', data, { key: privateKey, dsaEncoding: 'der' })),
  };
}

export interface Certificate {
  readonly der: Uint8Array;
  readonly signer: Signer;
}

let serial = 1;
/** A certificate of the test PKI (RFC 5280 profile of @amulet/pki), ECDSA P-256, valid ten years. */
export async function certificate(
  profile: Parameters<typeof issueCertificate>[0]['profile'],
  subject: NameFields,
  now: Date,
  issuer?: Certificate,
): Promise<Certificate> {
  const signer = ecSigner();
  const n = serial++;
  const der = await issueCertificate(
    {
      profile,
      subject,
      subjectPublicKeyInfo: signer.publicKeySpki(),
      serialNumber: Uint8Array.of(0x31, (n >> 8) & 0xff, n & 0xff),
      notBefore: new Date(now.getTime() - 86_400_000),
      notAfter: new Date(now.getTime() + 3650 * 86_400_000),
      ...(issuer === undefined ? {} : { issuer: parseCertificate(issuer.der) }),
    },
    issuer?.signer ?? signer,
  );
  return { der, signer };
}
