import { fromHex } from '@amulet/bytes';
import { issueCertificate, verifyCsr } from '@amulet/pki';
import { tap } from '@amulet/secure-element';
import { DAY_MS, type Harness, seededRandom, T0 } from '@amulet/wallet/testing';
import { Wearable } from '@amulet/wearable';

/**
 * The real wearable (@amulet/wearable) made as in the factory: the SE generates its key, the
 * tenant's device CA (the wallet harness's test PKI) certifies its CSR. It holds the sandbox
 * cards, so a lock shows at the next tap.
 */
export async function manufacture(h: Harness, pkiTenantId: string, seed: string): Promise<Wearable> {
  const random = seededRandom(seed);
  const band = Wearable.open({
    deviceKey: random(32),
    rng: random,
    clock: () => h.clock.ms,
    sandboxCards: true,
  });
  const ca = await h.pki.deviceCa(pkiTenantId);
  await band.manufacture(
    { organization: 'ACME', serialNumber: `SN-${seed}`, commonName: 'Band 3' },
    async (csr) => {
      const request = verifyCsr(csr);
      const leaf = await issueCertificate(
        {
          profile: {
            kind: 'device',
            attributes: { oemId: 'ACME', model: 'Band 3', seType: 'embedded', tenantId: pkiTenantId },
          },
          subject: request.subject,
          subjectPublicKeyInfo: request.subjectPublicKeyInfo,
          serialNumber: Uint8Array.of(0x31, seed.length, seed.charCodeAt(seed.length - 1)),
          notBefore: new Date(T0.getTime() - DAY_MS),
          notAfter: new Date(T0.getTime() + 3650 * DAY_MS),
          issuer: ca.parsed,
        },
        ca.key.signer,
      );
      return [leaf, ca.der];
    },
  );
  return band;
}

/** A tap at a terminal: resolves with a cryptogram, or rejects when the SE refuses. */
export const tapOnce = (band: Wearable) =>
  tap((a) => band.nfc.transmit(a), { amount: 100, unpredictableNumber: fromHex('0A0B0C0D') });

/** Waits (bounded) until `done()` holds: a push arrives over real sockets. */
export async function until(done: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
