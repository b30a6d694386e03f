import { isAmuletError } from '@amulet/bytes';
import {
  type ChainVerifier,
  createChainVerifier,
  finishPhoneHandshake,
  type RevocationLookup,
  type SecureLinkSession,
  startPhoneHandshake,
} from '@amulet/pki';
import { webSocketTransport } from '@amulet/secure-element';
import {
  decodeWearerResponse,
  encodeWearerRequest,
  type WearerRequest,
  type WearerResponse,
} from '@amulet/wearable';
import { CompanionError } from './companion-error.ts';

/**
 * How the phone reaches the wearable (BLE, a socket, in process): one message out, the wearable's
 * one reply back, in order (docs/protocols/secure-link.md, "Overview"). The reply to PhoneFinished is empty.
 */
export interface WearableTransport {
  exchange(message: Uint8Array): Promise<Uint8Array>;
}

/** How long the phone waits for one answer from a wearable over a WebSocket. */
export const WEARABLE_TIMEOUT_MS_DEFAULT = 10_000;

/**
 * A wearable's phone link served over a WebSocket (`amulet wearable run --link-port`): each
 * message out is answered by the next message in. Failures are `ERR_COMPANION_WEARABLE`.
 */
export async function webSocketWearable(
  url: string,
  options: { readonly timeoutMs?: number } = {},
): Promise<WearableTransport & { close(): Promise<void> }> {
  if (!/^wss?:\/\/[^\s]+$/.test(url))
    throw new CompanionError('ERR_COMPANION_STATE', 'the wearable address must be a ws:// or wss:// URL');
  const unreachable = () => new CompanionError('ERR_COMPANION_WEARABLE', 'the wearable cannot be reached');
  let transport: Awaited<ReturnType<typeof webSocketTransport>>;
  try {
    transport = await webSocketTransport(url, {
      timeoutMs: options.timeoutMs ?? WEARABLE_TIMEOUT_MS_DEFAULT,
    });
  } catch {
    throw unreachable();
  }
  return {
    exchange: async (message) => {
      try {
        return await transport.transmit(message);
      } catch {
        throw unreachable();
      }
    },
    close: async () => {
      await transport.close?.();
    },
  };
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

  /** Sends one request (wearer-messages, in @amulet/wearable) and returns the wearable's answer. */
  async request(request: WearerRequest): Promise<WearerResponse> {
    let message: Uint8Array;
    try {
      message = encodeWearerRequest(request);
    } catch {
      throw new CompanionError(
        'ERR_COMPANION_STATE',
        'this request cannot be sent (a PIN is 4 to 12 digits)',
      );
    }
    const record = await this.#transport.exchange(this.#session.seal(message));
    const opened = this.#session.open(record);
    if (opened.kind !== 'data')
      throw new CompanionError('ERR_COMPANION_WEARABLE', 'the wearable closed the link');
    try {
      return decodeWearerResponse(opened.data);
    } catch (error) {
      if (isAmuletError(error))
        throw new CompanionError('ERR_COMPANION_WEARABLE', 'malformed wearer message');
      throw error;
    }
  }
}

/** The handshake both pairing and reconnection run; returns the finished session and the verified chain. */
async function handshake(transport: WearableTransport, options: Omit<PairingOptions, 'confirmSas'>) {
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
  return finished;
}

/**
 * Reconnects to a wearable paired before: the same handshake (chain, revocation, signature, key
 * confirmation), and the device certificate must be the very one recorded at pairing. No short
 * code is compared: a man in the middle would need that device's key, which never leaves its SE
 * (the code protects only the first pairing, when any device of the tenant could answer).
 */
export async function reconnectWearable(
  transport: WearableTransport,
  options: Omit<PairingOptions, 'confirmSas'> & { readonly deviceCertificate: Uint8Array },
): Promise<PairedWearable> {
  const finished = await handshake(transport, options);
  const chain = finished.chain.path.slice(0, -1).map((c) => c.der);
  const leaf = chain[0];
  if (leaf === undefined || Buffer.compare(Buffer.from(leaf), Buffer.from(options.deviceCertificate)) !== 0)
    throw new CompanionError('ERR_COMPANION_WEARABLE', 'this is not the wearable paired before');
  return new PairedWearable(finished.session, transport, finished.sas, chain);
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
  const finished = await handshake(transport, options);
  if (!(await options.confirmSas(finished.sas))) {
    throw new CompanionError('ERR_COMPANION_SAS', 'the short codes on the phone and the wearable differ');
  }
  const chain = finished.chain.path.slice(0, -1).map((c) => c.der);
  return new PairedWearable(finished.session, transport, finished.sas, chain);
}
