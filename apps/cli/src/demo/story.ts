import { Companion, type WalletCard, WalletClient } from '@amulet/companion';
import { Field } from '@amulet/contracts';
import { getText } from '@amulet/iso8583';
import type { KernelConfig, Outcome, PosTerminal } from '@amulet/terminal';
import type { Wearable } from '@amulet/wearable';
import { SETUP, type System } from '../system/system.ts';
import type { Narrator, StepOutcome } from './narrator.ts';

/** Amounts in euro cents: under the reader's CVM limit (50.00), and above it. */
export const SMALL_AMOUNT = 1234;
export const LARGE_AMOUNT = 7500;

export interface StoryOptions {
  /** The wearer's PIN; never printed. */
  readonly pin?: string;
  /** The terminal's kernel settings (default the terminal's defaults: CVM limit 50.00). */
  readonly kernel?: Partial<KernelConfig>;
}

interface TapSummary {
  readonly outcome: Outcome;
  /** Last four digits of the DPAN the terminal read (what a receipt shows). */
  readonly last4: string | undefined;
}

const euros = (minor: number): string => `EUR ${(minor / 100).toFixed(2)}`;

/** Which wallet card a tap used, by the last four digits of the token the terminal read. */
function cardName(cards: readonly { label: string; card: WalletCard }[], last4: string | undefined): string {
  return (
    cards.find((c) => c.card.last4 === last4)?.label ??
    (last4 === undefined ? 'no authorization sent' : `card ...${last4}`)
  );
}

function tapLine(summary: TapSummary, card: string): string {
  const o = summary.outcome;
  const code = o.responseCode === undefined ? '' : `, response code ${o.responseCode}`;
  const auth = o.authorizationId === undefined ? '' : `, authorization ${o.authorizationId}`;
  return `${o.status} (${o.reason}${code}${auth}) with ${card}`;
}

/**
 * The story of issue 8 (DESIGN.md flows 1 to 9), told by the narrator and computed by the parties:
 * every outcome printed is what the parties answered, and each step's `ok` compares it with what
 * the story expects.
 */
export async function tellStory(
  system: System,
  narrator: Narrator,
  options: StoryOptions = {},
): Promise<void> {
  const pin = options.pin ?? '4827';
  const cardholderId = 'cardholder-alice';
  let keys = 0;

  // ---- 1. Manufacture ----
  let wearable: Wearable | undefined;
  await narrator.step('Manufacture a wearable: key pair inside the SE, CSR to the device CA', async () => {
    wearable = system.newWearable();
    const serial = `SN-${Buffer.from(system.random(4)).toString('hex').toUpperCase()}`;
    const chain = await wearable.manufacture(
      { organization: SETUP.oem, serialNumber: serial, commonName: SETUP.model },
      async (csr) => {
        const issued = await system.rootOfTrust.ca.issue({ profile: 'device', csr });
        return [issued.der, system.rootOfTrust.deviceCa.der];
      },
    );
    const trusted = system.rootOfTrust.trusts(chain);
    return {
      outcome: `device certificate for ${serial} issued by the device CA and stored in the SE; chain ${trusted ? 'valid' : 'NOT valid'}`,
      ok: trusted && wearable.se.devicePublicKey !== undefined,
      facts: { serial, chainValid: trusted },
    };
  });
  const band = wearable as Wearable;
  band.wristOn();

  // ---- 2. Pair ----
  const companion = new Companion({
    wallet: new WalletClient({
      baseUrl: `${system.httpUrl}/wallet`,
      tenantId: system.wallet.tenantId,
      newKey: () => `demo-${Date.now().toString(36)}-${keys++}`,
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
  const email = `alice+${Buffer.from(system.random(3)).toString('hex')}@example.com`;
  const password = Buffer.from(system.random(12)).toString('base64url');
  let deviceId = '';
  let link: Awaited<ReturnType<Companion['pair']>>['wearable'] | undefined;
  await narrator.step('Pair it with the companion: chain check, short code on both screens', async () => {
    await companion.register(email, password);
    let shown = '';
    const paired = await companion.pair(band, async (sas) => {
      shown = sas;
      return sas === band.sas;
    });
    deviceId = paired.device.id;
    link = paired.wearable;
    return {
      outcome: `short code ${shown} matched on the phone and the wearable; wallet device ${paired.device.state}`,
      ok: paired.device.state === 'active' && shown === band.sas,
      facts: { deviceState: paired.device.state },
    };
  });
  const phoneLink = link as NonNullable<typeof link>;

  // ---- 3. PIN ----
  await narrator.step('Set the PIN on the phone; it travels over the secure link to the SE', async () => {
    await companion.setPin(phoneLink, pin);
    const tries = band.se.pinTriesLeft;
    return {
      outcome: `PIN enrolled in the secure element (${tries} tries); no server saw it`,
      ok: tries !== undefined && tries > 0,
      facts: { triesLeft: tries ?? 0 },
    };
  });

  // ---- 4. Cards ----
  const account = await system.issuer.createAccount({
    cardholderId,
    currency: '978',
    creditLimitMinor: 500_000,
  });
  const visa = await system.issuer.issueCard({
    accountId: account.id,
    bin: SETUP.issuerBins.visa,
    panLength: 16,
  });
  const mastercard = await system.issuer.issueCard({
    accountId: account.id,
    bin: SETUP.issuerBins.mastercard,
    panLength: 16,
    stepUp: true,
  });
  const cards: { label: string; card: WalletCard }[] = [];
  const activeCard = async (id: string): Promise<WalletCard> => {
    await system.pump();
    return companion.wallet.card(id);
  };
  await narrator.step('Add a Visa card (issuer ID&V: green)', async () => {
    let otpAsked = 0;
    const added = await companion.addCard(
      deviceId,
      phoneLink,
      { pan: visa.pan, expiry: visa.expiry, cvv: '123' },
      async () => {
        otpAsked++;
        return '';
      },
      'AMULET VISA',
    );
    const card = await activeCard(added.id);
    cards.push({ label: `the Visa token ...${card.last4}`, card });
    return {
      outcome: `token ...${card.last4} ${card.status} in the wallet, personalized in the SE${otpAsked > 0 ? ' (an OTP was asked!)' : ''}`,
      ok: card.status === 'active' && otpAsked === 0 && band.se.tokens().length === 1,
      facts: { status: card.status, otpAsked },
    };
  });
  await narrator.step('Add a Mastercard (issuer ID&V: yellow, OTP from the issuer)', async () => {
    let otpAsked = 0;
    const added = await companion.addCard(
      deviceId,
      phoneLink,
      { pan: mastercard.pan, expiry: mastercard.expiry, cvv: '321' },
      async () => {
        otpAsked++;
        // The companion reads the code the issuer sent to the cardholder (its OTP outbox).
        const messages = await system.issuer.otpOutbox.read(cardholderId);
        return messages[messages.length - 1]?.code ?? '';
      },
      'AMULET MC',
    );
    const card = await activeCard(added.id);
    cards.push({ label: `the Mastercard token ...${card.last4}`, card });
    return {
      outcome: `OTP step-up passed (${otpAsked} code read); token ...${card.last4} ${card.status}`,
      ok: card.status === 'active' && otpAsked === 1 && band.se.tokens().length === 2,
      facts: { status: card.status, otpAsked },
    };
  });

  // ---- 5. Taps ----
  const terminal: PosTerminal = await system.terminal('T0000001', options.kernel);
  const tap = async (amount: number): Promise<TapSummary> => {
    const report = await terminal.tap(system.nfc(band), amount);
    await terminal.settled();
    const dpan = report.request === undefined ? undefined : getText(report.request, Field.pan);
    return { outcome: report.outcome, last4: dpan?.slice(-4) };
  };
  const tapStep = (
    title: string,
    amount: number,
    expect: (s: TapSummary) => boolean,
    before?: () => Promise<string | undefined>,
  ): Promise<StepOutcome> =>
    narrator.step(title, async () => {
      const prelude = before === undefined ? undefined : await before();
      const summary = await tap(amount);
      const line = `${euros(amount)}: ${tapLine(summary, cardName(cards, summary.last4))}`;
      return {
        outcome: prelude === undefined ? line : `${prelude}; ${line}`,
        ok: expect(summary),
        facts: {
          amount,
          status: summary.outcome.status,
          reason: summary.outcome.reason,
          ...(summary.outcome.responseCode === undefined
            ? {}
            : { responseCode: summary.outcome.responseCode }),
          ...(summary.last4 === undefined ? {} : { last4: summary.last4 }),
        },
      };
    });
  const first = cards[0]?.card;
  const second = cards[1]?.card;
  await tapStep(
    'Tap to pay (default card)',
    SMALL_AMOUNT,
    (s) => s.outcome.status === 'approved' && s.last4 === first?.last4,
  );
  await tapStep(
    'Switch the default card to the Mastercard and tap',
    SMALL_AMOUNT,
    (s) => s.outcome.status === 'approved' && s.last4 === second?.last4,
    async () => {
      await companion.chooseDefault(second?.id ?? '', phoneLink);
      return 'default switched on the phone, the SE reordered PPSE';
    },
  );
  await tapStep(
    'Take the wearable off the wrist (PIN session ends), tap above the CVM limit',
    LARGE_AMOUNT,
    (s) => s.outcome.status === 'see-phone' || s.outcome.status === 'declined',
    async () => {
      band.wristOff();
      band.wristOn();
      return 'CDCVM session ended';
    },
  );
  await tapStep(
    'Re-enter the PIN on the phone and tap again',
    LARGE_AMOUNT,
    (s) => s.outcome.status === 'approved',
    async () => {
      const verdict = await companion.verifyPin(phoneLink, pin);
      return `PIN ${verdict.status} by the SE`;
    },
  );

  // ---- 6. Lost and found ----
  await tapStep(
    'Report the wearable lost (it is never told), then tap',
    SMALL_AMOUNT,
    (s) => s.outcome.status === 'declined' && band.se.tokens().every((t) => t.status === 'active'),
    async () => {
      const device = await companion.reportLost(deviceId);
      const onSe = band.se.tokens().map((t) => t.status);
      return `wallet device ${device.state}, tokens suspended at the token service; on the SE still ${[...new Set(onSe)].join('/')}`;
    },
  );
  await tapStep(
    'Mark it found (PIN verified by the SE, fresh attestation), then tap',
    SMALL_AMOUNT,
    (s) => s.outcome.status === 'approved',
    async () => {
      const device = await companion.reportFound(deviceId, phoneLink, pin);
      return `wallet device ${device.state}, tokens resumed`;
    },
  );

  // ---- 7. Issuer reissues the card behind the default token ----
  const tokenBefore = band.se.tokens().map((t) => t.id);
  await narrator.step('The issuer reissues the Mastercard; tap again with the same token', async () => {
    const reissued = await system.issuer.reissueCard(mastercard.id);
    await system.pump();
    const old = await system.issuer.card(mastercard.id);
    const summary = await tap(SMALL_AMOUNT);
    const sameToken =
      band.se
        .tokens()
        .map((t) => t.id)
        .join() === tokenBefore.join();
    const seen = [...system.issuerLog].reverse().find((e) => e.event === 'iso8583' && e.mti === '0100');
    const onNewCard = seen?.panMasked?.slice(-4) === reissued.pan.slice(-4);
    return {
      outcome: `old card ${old.status}, new card ...${reissued.pan.slice(-4)}; ${euros(SMALL_AMOUNT)}: ${tapLine(summary, cardName(cards, summary.last4))}; same token on the SE: ${sameToken ? 'yes' : 'no'}; the issuer authorized on the ${onNewCard ? 'new' : 'OLD'} card`,
      ok:
        summary.outcome.status === 'approved' &&
        summary.last4 === second?.last4 &&
        sameToken &&
        old.status === 'closed' &&
        onNewCard,
      facts: {
        status: summary.outcome.status,
        reason: summary.outcome.reason,
        sameToken,
        oldCard: old.status,
        issuerSawNewCard: onNewCard,
        ...(summary.last4 === undefined ? {} : { last4: summary.last4 }),
      },
    };
  });
  terminal.close();
}
