import { CompanionError } from './companion-error.ts';

export interface WalletCard {
  readonly id: string;
  readonly deviceId: string;
  readonly tokenReference: string;
  readonly last4: string;
  readonly network: string;
  readonly artUrl: string;
  readonly issuerName: string;
  readonly status: 'pending-otp' | 'provisioning' | 'active' | 'suspended' | 'removed';
  readonly isDefault: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface WalletDevice {
  readonly id: string;
  readonly model: string;
  readonly oemId: string;
  readonly certificateSerial: string;
  readonly state: 'active' | 'lost' | 'wiped';
  readonly pairedAt: string;
  readonly updatedAt: string;
}

export interface WalletCommand {
  readonly id: string;
  readonly kind: 'lock' | 'unlock' | 'set-default' | 'delete-applet' | 'wipe';
  readonly tokenReference: string | null;
  readonly createdAt: string;
}

export interface WalletEvent {
  readonly id: string | undefined;
  readonly type: string;
  readonly data: Record<string, unknown>;
}

export interface WalletClientOptions {
  readonly baseUrl: string;
  readonly tenantId: string;
  /** Idempotency keys for POSTs: a retry of one step reuses its key (injected, so runs replay). */
  readonly newKey: () => string;
  readonly session?: string;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

/**
 * The wallet's HTTP API as the phone app uses it (docs/wallet.md). Problems come back as
 * CompanionError ERR_COMPANION_WALLET with the wallet's code, status and reason.
 */
export class WalletClient {
  readonly #options: WalletClientOptions;
  readonly #fetch: typeof fetch;
  #session: string | undefined;

  constructor(options: WalletClientOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
    this.#session = options.session;
  }

  get session(): string | undefined {
    return this.#session;
  }

  get tenantId(): string {
    return this.#options.tenantId;
  }

  async #call<T>(method: string, path: string, body?: unknown, authenticated = true): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (authenticated) {
      if (this.#session === undefined) throw new CompanionError('ERR_COMPANION_STATE', 'log in first');
      headers.authorization = `Bearer ${this.#session}`;
    }
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method === 'POST') headers['idempotency-key'] = this.#options.newKey();
    const response = await this.#fetch(`${this.#options.baseUrl.replace(/\/$/, '')}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(this.#options.timeoutMs ?? 30_000),
    });
    const text = await response.text();
    const json = text.length === 0 ? undefined : (JSON.parse(text) as unknown);
    if (!response.ok) {
      const p = json as { code?: string; status?: number; reason?: string } | undefined;
      throw new CompanionError('ERR_COMPANION_WALLET', `the wallet refused: ${p?.code ?? response.status}`, {
        code: p?.code ?? 'ERR_UNKNOWN',
        status: response.status,
        ...(p?.reason === undefined ? {} : { reason: p.reason }),
      });
    }
    return json as T;
  }

  register(email: string, password: string): Promise<{ id: string; email: string }> {
    return this.#call('POST', `/v1/tenants/${this.tenantId}/users`, { email, password }, false);
  }

  async login(email: string, password: string): Promise<{ session: string; expiresAt: string }> {
    const answer = await this.#call<{ session: string; expiresAt: string }>(
      'POST',
      `/v1/tenants/${this.tenantId}/sessions`,
      { email, password },
      false,
    );
    this.#session = answer.session;
    return answer;
  }

  async logout(): Promise<void> {
    await this.#call('DELETE', '/v1/session');
    this.#session = undefined;
  }

  me(): Promise<{
    user: { id: string; email: string };
    tenant: { id: string; pinPolicy: { pinLength: number } };
  }> {
    return this.#call('GET', '/v1/me');
  }

  challenge(purpose: 'register' | 'found'): Promise<{ nonce: string; expiresAt: string }> {
    return this.#call('POST', '/v1/devices/challenges', { purpose });
  }

  registerDevice(body: {
    certificateChain: string[];
    signature: string;
    nonce: string;
    sas: string;
    context?: string;
  }): Promise<WalletDevice> {
    return this.#call('POST', '/v1/devices', body);
  }

  async devices(): Promise<WalletDevice[]> {
    return (await this.#call<{ devices: WalletDevice[] }>('GET', '/v1/devices')).devices;
  }

  lost(deviceId: string): Promise<WalletDevice> {
    return this.#call('POST', `/v1/devices/${encodeURIComponent(deviceId)}/lost`, {});
  }

  found(
    deviceId: string,
    body: { signature: string; nonce: string; context?: string },
  ): Promise<WalletDevice> {
    return this.#call('POST', `/v1/devices/${encodeURIComponent(deviceId)}/found`, body);
  }

  wipe(deviceId: string): Promise<WalletDevice> {
    return this.#call('POST', `/v1/devices/${encodeURIComponent(deviceId)}/wipe`, {});
  }

  async commands(deviceId: string): Promise<WalletCommand[]> {
    return (
      await this.#call<{ commands: WalletCommand[] }>(
        'GET',
        `/v1/devices/${encodeURIComponent(deviceId)}/commands`,
      )
    ).commands;
  }

  async acknowledge(deviceId: string, commandId: string): Promise<void> {
    await this.#call(
      'POST',
      `/v1/devices/${encodeURIComponent(deviceId)}/commands/${encodeURIComponent(commandId)}/ack`,
      {},
    );
  }

  async tspKey(): Promise<Record<string, string>> {
    return (await this.#call<{ jwk: Record<string, string> }>('GET', '/v1/tsp/encryption-key')).jwk;
  }

  digitize(
    deviceId: string,
    body: { encryptedCard: string; network: string; label?: string },
  ): Promise<WalletCard> {
    return this.#call('POST', `/v1/devices/${encodeURIComponent(deviceId)}/cards`, body);
  }

  otp(cardId: string, otp: string): Promise<WalletCard> {
    return this.#call('POST', `/v1/cards/${encodeURIComponent(cardId)}/otp`, { otp });
  }

  provisioning(cardId: string, responses: string[]): Promise<{ commands: string[]; done: boolean }> {
    return this.#call('POST', `/v1/cards/${encodeURIComponent(cardId)}/provisioning`, { responses });
  }

  async cards(deviceId?: string): Promise<WalletCard[]> {
    const query = deviceId === undefined ? '' : `?deviceId=${encodeURIComponent(deviceId)}`;
    return (await this.#call<{ cards: WalletCard[] }>('GET', `/v1/cards${query}`)).cards;
  }

  card(cardId: string): Promise<WalletCard> {
    return this.#call('GET', `/v1/cards/${encodeURIComponent(cardId)}`);
  }

  setDefault(cardId: string): Promise<WalletCard> {
    return this.#call('POST', `/v1/cards/${encodeURIComponent(cardId)}/default`, {});
  }

  async remove(cardId: string): Promise<void> {
    await this.#call('DELETE', `/v1/cards/${encodeURIComponent(cardId)}`);
  }

  /**
   * Follows the server-sent events of the user (or of one device) until `signal` aborts; each
   * event is passed to `onEvent` (WHATWG HTML "Server-sent events" framing: id, event, data).
   * `onOpen` is called once the wallet accepted the stream, before any event.
   */
  async follow(
    onEvent: (event: WalletEvent) => void,
    signal: AbortSignal,
    deviceId?: string,
    onOpen?: () => void,
  ): Promise<void> {
    if (this.#session === undefined) throw new CompanionError('ERR_COMPANION_STATE', 'log in first');
    const path = deviceId === undefined ? '/v1/events' : `/v1/devices/${encodeURIComponent(deviceId)}/events`;
    const response = await this.#fetch(`${this.#options.baseUrl.replace(/\/$/, '')}${path}`, {
      headers: { authorization: `Bearer ${this.#session}`, accept: 'text/event-stream' },
      signal,
    });
    if (!response.ok || response.body === null)
      throw new CompanionError('ERR_COMPANION_WALLET', `the wallet refused: ${response.status}`, {
        code: 'ERR_EVENTS',
        status: response.status,
      });
    onOpen?.();
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        for (let cut = buffer.indexOf('\n\n'); cut >= 0; cut = buffer.indexOf('\n\n')) {
          const event = parseEvent(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
          if (event !== undefined) onEvent(event);
        }
        if (buffer.length > 1 << 20)
          throw new CompanionError('ERR_COMPANION_WALLET', 'an event is too large');
      }
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
  }
}

/** One SSE frame; comments and frames without data are skipped. */
export function parseEvent(frame: string): WalletEvent | undefined {
  let id: string | undefined;
  let type = 'message';
  const data: string[] = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return undefined;
  try {
    return { id, type, data: JSON.parse(data.join('\n')) as Record<string, unknown> };
  } catch {
    return undefined;
  }
}
