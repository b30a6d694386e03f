import { Companion, type WalletCard, WalletClient } from '@amulet/companion';
import type { Wearable } from '@amulet/wearable';
import { SETUP, type System } from './system.ts';

/**
 * A wearable made and set up through the running parties, as `amulet serve` does on start:
 * manufactured by the device CA, paired with a new wallet user's companion, PIN set, and one card
 * the issuer opens added through the wallet and the token service (green ID&V). Nothing here
 * bypasses a party: it is the demo story's first steps without the narration.
 */
export async function provisionWearable(
  system: System,
  pin: string,
): Promise<{ wearable: Wearable; card: WalletCard; companion: Companion; deviceId: string }> {
  const tag = Buffer.from(system.random(4)).toString('hex').toUpperCase();
  const wearable = system.newWearable();
  await wearable.manufacture(
    { organization: SETUP.oem, serialNumber: `SN-${tag}`, commonName: SETUP.model },
    async (csr) => [
      (await system.rootOfTrust.ca.issue({ profile: 'device', csr })).der,
      system.rootOfTrust.deviceCa.der,
    ],
  );
  wearable.wristOn();
  let keys = 0;
  const companion = new Companion({
    wallet: new WalletClient({
      baseUrl: `${system.httpUrl}/wallet`,
      tenantId: system.wallet.tenantId,
      newKey: () => `serve-${tag}-${keys++}`,
    }),
    pairing: {
      trustAnchors: [system.rootOfTrust.root.der],
      intermediates: [system.rootOfTrust.deviceCa.der],
      tenantId: SETUP.tenant,
      nowMs: () => system.now().getTime(),
      revocation: system.rootOfTrust.revocation,
      random: system.random,
    },
  });
  await companion.register(
    `wearer-${tag.toLowerCase()}@example.com`,
    Buffer.from(system.random(12)).toString('base64url'),
  );
  const paired = await companion.pair(wearable, async (sas) => sas === wearable.sas);
  await companion.setPin(paired.wearable, pin);
  const account = await system.issuer.createAccount({
    cardholderId: `cardholder-${tag.toLowerCase()}`,
    currency: '978',
    creditLimitMinor: 500_000,
  });
  const issued = await system.issuer.issueCard({
    accountId: account.id,
    bin: SETUP.issuerBins.visa,
    panLength: 16,
  });
  const added = await companion.addCard(
    paired.device.id,
    paired.wearable,
    { pan: issued.pan, expiry: issued.expiry },
    async () => '',
    'AMULET VISA',
  );
  await system.pump();
  const card = await companion.wallet.card(added.id);
  if (card.status !== 'active') throw new Error(`the wearable's card is ${card.status}, not active`);
  return { wearable, card, companion, deviceId: paired.device.id };
}
