import {
  type ChainVerifier,
  createChainVerifier,
  finishPhoneHandshake,
  type RevocationLookup,
  type SecureLinkSession,
  startPhoneHandshake,
} from '@amulet/pki';
import { CompanionError } from './companion-error.ts';
import {
  decodeWearerResponse,
  encodeWearerRequest,
  type WearerRequest,
  type WearerResponse,
} from './wearer-messages.ts';

/**
 * How the phone reaches the wearable (BLE, a socket, in process): one message out, the wearable's
 * one reply back, in order (docs/protocols/secure-link.md, "Overview"). The reply to PhoneFinished is empty.
 */
export interface WearableTransport {
  exchange(message: Uint8Array): Promise<Uint8Array>;
}

export interface PairingOptions {
  /** Root-of-trust certificates (DER) the wearable's chain must lead to. */
  readonly trustAnchors: readonly Uint8Array[];
  readonly intermediates?: readonly Uint8Array[];
  /** The tenant (OEM) whose device CA must have issued the wearable's certificate. */
  readonly tenantId: string;
  readonly nowMs: () => number;
  readonly revocation: RevocationLookup;
  readonly random: (n: number) => Uint8Array;
  /** Shows the six digits; resolves true when the user confirms the wearable shows the same. */
  readonly confirmSas: (sas: string) => Promise<boolean>;
}

/** A P-256 private scalar below the group order: 32 random bytes with the top bit cleared. */
function ephemeralScalar(random: (n: number) => Uint8Array): Uint8Array {
  const key = new Uint8Array(random(32));
  key[0]! &= 0x7f;
  if (key.every((b) => b === 0)) key[31] = 1;
  return key;
}

/** A paired wearable: requests travel as secure-link records, each answered by one record. */
export class PairedWearable {
  readonly sas: string;
  /** The wearable's chain (DER), device certificate first, as verified during the handshake. */
  readonly chain: readonly Uint8Array[];
  readonly #session: SecureLinkSession;
  readonly #transport: WearableTransport;

  constructor(
    session: SecureLinkSession,
    transport: WearableTransport,
    sas: string,
    chain: readonly Uint8Array[],
  ) {
    this.#session = session;
    this.#transport = transport;
    this.sas = sas;
    this.chain = chain;
  }

  async request(request: WearerRequest): Promise<WearerResponse> {
    const record = await this.#transport.exchange(this.#session.seal(encodeWearerRequest(request)));
    const opened = this.#session.open(record);
    if (opened.kind !== 'data')
      throw new CompanionError('ERR_COMPANION_WEARABLE', 'the wearable closed the link');
    return decodeWearerResponse(opened.data);
  }
}

/**
 * Pairs with a wearable (docs/protocols/secure-link.md): phone hello, verify the wearable's chain
 * (root of trust, this tenant's device CA, validity, revocation) and its signature and key
 * confirmation, send PhoneFinished, then have the user compare the short authentication string.
 */
export async function pairWearable(
  transport: WearableTransport,
  options: PairingOptions,
): Promise<PairedWearable> {
  const verifier: ChainVerifier = createChainVerifier({
    trustAnchors: options.trustAnchors,
    ...(options.intermediates === undefined ? {} : { intermediates: options.intermediates }),
    tenantId: options.tenantId,
  });
  const phone = startPhoneHandshake({
    ephemeralPrivateKey: ephemeralScalar(options.random),
    random: options.random(32),
  });
  const wearableHello = await transport.exchange(phone.message);
  const finished = finishPhoneHandshake(phone.state, wearableHello, (chain) =>
    verifier.verify({ chain, nowMs: options.nowMs(), purpose: 'device', revocation: options.revocation }),
  );
  await transport.exchange(finished.message);
  if (!(await options.confirmSas(finished.sas))) {
    throw new CompanionError('ERR_COMPANION_SAS', 'the short codes on the phone and the wearable differ');
  }
  const chain = finished.chain.path.slice(0, -1).map((c) => c.der);
  return new PairedWearable(finished.session, transport, finished.sas, chain);
}
