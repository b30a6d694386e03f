import {
  authorizationKey,
  Field,
  Mti,
  originalAuthorizationKey,
  ResponseCode,
  responseTo,
  text,
} from '@amulet/contracts';
import type { Iso8583Message } from '@amulet/iso8583';

interface Hold {
  readonly pan: string;
  readonly amount: number;
  state: 'held' | 'released' | 'declined';
  readonly answer: Iso8583Message;
}

const echo = [2, 3, 4, 7, 11, 12, 13, 32, 37, 41, 42, 49];

/**
 * A small issuer that follows the authorization contract (docs/network.md): 0100 holds funds
 * once per transactionKey (a repeat gets the stored answer), 0120 advices post a stand-in
 * approval once, 0400/0420/0421 release a hold exactly once (a reversal of an unknown original
 * is acknowledged and remembered), 0800 echoes. It counts every effect, so tests can check that
 * retransmissions had one effect. `silent` makes it ignore matching messages (a slow issuer).
 */
export class SandboxIssuer {
  readonly #accounts = new Map<string, number>();
  readonly #holds = new Map<string, Hold>();
  readonly #reversedUnknown = new Set<string>();
  readonly effects = { holds: 0, releases: 0, advicesPosted: 0, repeatsAnswered: 0 };
  readonly received: string[] = [];
  #authorizationIds = 0;
  silent: (message: Iso8583Message) => boolean = () => false;
  /** Milliseconds to wait before answering a message (a slow issuer); 0 answers at once. */
  delayMs: (message: Iso8583Message) => number = () => 0;

  /** Opens an account for a real PAN with an available balance in minor units. */
  open(pan: string, available: number): void {
    this.#accounts.set(pan, available);
  }

  available(pan: string): number | undefined {
    return this.#accounts.get(pan);
  }

  /** The state of the hold an authorization made, by transactionKey. */
  hold(key: string): Hold['state'] | undefined {
    return this.#holds.get(key)?.state;
  }

  holds(): ReadonlyMap<string, Omit<Hold, 'answer'>> {
    return this.#holds;
  }

  readonly handle = (
    message: Iso8583Message,
  ): Iso8583Message | undefined | Promise<Iso8583Message | undefined> => {
    this.received.push(message.mti);
    if (this.silent(message)) return undefined;
    const delay = this.delayMs(message);
    if (delay > 0) return new Promise((resolve) => setTimeout(() => resolve(this.#answer(message)), delay));
    return this.#answer(message);
  };

  #answer(message: Iso8583Message): Iso8583Message | undefined {
    switch (message.mti) {
      case Mti.authorizationRequest:
      case '0101':
        return this.#authorize(message);
      case Mti.authorizationAdvice:
      case '0121':
        return this.#advice(message);
      case Mti.reversalRequest:
      case Mti.reversalAdvice:
      case Mti.reversalAdviceRepeat:
        return this.#reverse(message);
      case Mti.networkManagementRequest:
        return responseTo(message, [7, 11, 70], { [Field.responseCode]: ResponseCode.approved });
      default:
        return undefined;
    }
  }

  #authorize(request: Iso8583Message): Iso8583Message {
    const key = authorizationKey(request);
    const known = this.#holds.get(key);
    if (known !== undefined) {
      this.effects.repeatsAnswered++;
      return known.answer;
    }
    const pan = text(request, Field.pan);
    const amount = Number(text(request, Field.amount));
    const available = this.#accounts.get(pan);
    let code: string = ResponseCode.approved;
    if (available === undefined) code = ResponseCode.invalidCardNumber;
    else if (this.#reversedUnknown.has(key)) code = ResponseCode.duplicateTransmission;
    else if (!Number.isSafeInteger(amount) || amount > available) code = ResponseCode.insufficientFunds;
    const approved = code === ResponseCode.approved;
    if (approved) {
      this.#accounts.set(pan, available! - amount);
      this.effects.holds++;
    }
    this.#authorizationIds++;
    const answer = responseTo(request, echo, {
      [Field.responseCode]: code,
      [Field.authorizationIdResponse]: approved ? String(this.#authorizationIds).padStart(6, '0') : undefined,
    });
    this.#holds.set(key, { pan, amount, state: approved ? 'held' : 'declined', answer });
    return answer;
  }

  #advice(advice: Iso8583Message): Iso8583Message {
    const key = authorizationKey(advice);
    const known = this.#holds.get(key);
    const pan = text(advice, Field.pan);
    const amount = Number(text(advice, Field.amount));
    // A stand-in approval binds the issuer: post it once, whatever the issuer said late, if anything.
    if ((known === undefined || known.state === 'declined') && !this.#reversedUnknown.has(key)) {
      this.#accounts.set(pan, (this.#accounts.get(pan) ?? 0) - amount);
      this.effects.advicesPosted++;
      this.#holds.set(key, {
        pan,
        amount,
        state: 'held',
        answer: responseTo(advice, echo, { [Field.responseCode]: ResponseCode.approved }),
      });
    }
    return responseTo(advice, echo, { [Field.responseCode]: ResponseCode.approved });
  }

  #reverse(reversal: Iso8583Message): Iso8583Message {
    const key = originalAuthorizationKey(reversal);
    if (key === undefined)
      return responseTo(reversal, echo, { [Field.responseCode]: ResponseCode.formatError });
    const hold = this.#holds.get(key);
    if (hold === undefined) this.#reversedUnknown.add(key);
    else if (hold.state === 'held') {
      hold.state = 'released';
      this.#accounts.set(hold.pan, (this.#accounts.get(hold.pan) ?? 0) + hold.amount);
      this.effects.releases++;
    }
    return responseTo(reversal, echo, { [Field.responseCode]: ResponseCode.approved });
  }
}
