import {
  finishWearableHandshake,
  respondWearableHandshake,
  type SecureLinkSession,
  type WearableHandshake,
} from '@amulet/pki';
import type { SecureElement } from '@amulet/secure-element';
import type { WearableTransport } from './wearable-link.ts';
import {
  decodeWearerRequest,
  encodeWearerResponse,
  type WearerRequest,
  type WearerResponse,
} from './wearer-messages.ts';

const REGISTER_PREFIX = 'amulet-wallet/v1 register ';
const FOUND_PREFIX = 'amulet-wallet/v1 found ';

/**
 * A wearable's firmware around a real secure element (@amulet/secure-element), for tests, demos
 * and the command line: it answers the secure-link handshake with the SE's device key, then serves
 * wearer messages. Its rules: it attests a registration only for the short code it shows itself,
 * and a "found" only after the SE verified the wearer's PIN on this link.
 */
export class SimulatedWearable implements WearableTransport {
  readonly #se: SecureElement;
  readonly #random: (n: number) => Uint8Array;
  #pending: { state: WearableHandshake; sas: string } | undefined;
  #session: SecureLinkSession | undefined;
  #pinVerified = false;
  /** The code on the wearable's screen during pairing. */
  sas: string | undefined;
  locked = false;
  readonly received: WearerRequest['kind'][] = [];

  constructor(se: SecureElement, random: (n: number) => Uint8Array) {
    this.#se = se;
    this.#random = random;
  }

  async exchange(message: Uint8Array): Promise<Uint8Array> {
    if (message[0] === 0x01 && message.length === 99) {
      // PhoneHello: a new handshake (docs/protocols/secure-link.md); any old session ends.
      this.#session = undefined;
      this.#pinVerified = false;
      const key = new Uint8Array(this.#random(32));
      key[0]! &= 0x7f;
      const answer = await respondWearableHandshake({
        phoneHello: message,
        ephemeralPrivateKey: key,
        random: this.#random(32),
        chain: this.#se.certificates(),
        signer: this.#se.secureLinkSigner(),
      });
      this.#pending = { state: answer.state, sas: answer.sas };
      return answer.message;
    }
    if (this.#pending !== undefined && message[0] === 0x03) {
      this.#session = finishWearableHandshake(this.#pending.state, message);
      this.sas = this.#pending.sas;
      this.#pending = undefined;
      return new Uint8Array(0);
    }
    const session = this.#session;
    if (session === undefined) return new Uint8Array(0);
    const opened = session.open(message);
    if (opened.kind !== 'data') return session.close();
    let response: WearerResponse;
    try {
      const request = decodeWearerRequest(opened.data);
      this.received.push(request.kind);
      response = this.#handle(request);
    } catch {
      response = { kind: 'error', code: 1 };
    }
    return session.seal(encodeWearerResponse(response));
  }

  #handle(request: WearerRequest): WearerResponse {
    const se = this.#se;
    switch (request.kind) {
      case 'enroll-pin':
        try {
          se.wearer.enrollPin(request.pin);
        } catch {
          return { kind: 'pin', status: 'refused', triesLeft: se.pinTriesLeft ?? 0 };
        }
        return { kind: 'pin', status: 'enrolled', triesLeft: se.pinTriesLeft ?? 0 };
      case 'verify-pin': {
        const result = se.wearer.verifyPin(request.pin);
        this.#pinVerified = result.status === 'verified';
        return { kind: 'pin', status: result.status, triesLeft: result.triesLeft };
      }
      case 'attest': {
        const text = new TextDecoder().decode(request.context);
        const allowed =
          (text.startsWith(REGISTER_PREFIX) && this.sas !== undefined && text.endsWith(` ${this.sas}`)) ||
          (text.startsWith(FOUND_PREFIX) && this.#pinVerified);
        if (!allowed) return { kind: 'error', code: 2 };
        const signed = se.attest(request.nonce, request.context);
        return {
          kind: 'attestation',
          chain: se.certificates(),
          context: signed.context,
          signature: signed.signature,
        };
      }
      case 'apdu':
        return { kind: 'apdu', response: se.transmit(request.command) };
      case 'command':
        this.#command(request.command, request.tokenReference);
        return { kind: 'done' };
    }
  }

  #command(kind: string, tokenReference: string): void {
    const se = this.#se;
    const known = se.tokens().some((t) => t.id === tokenReference);
    switch (kind) {
      case 'lock':
        this.locked = true;
        for (const t of se.tokens()) if (t.status === 'active') se.setTokenStatus(t.id, 'suspended');
        return;
      case 'unlock':
        this.locked = false;
        for (const t of se.tokens()) if (t.status === 'suspended') se.setTokenStatus(t.id, 'active');
        return;
      case 'set-default':
        if (known) se.setDefault(tokenReference);
        return;
      case 'delete-applet':
        if (known) se.setTokenStatus(tokenReference, 'deleted');
        return;
      case 'wipe':
        se.wipe();
        return;
    }
  }
}
