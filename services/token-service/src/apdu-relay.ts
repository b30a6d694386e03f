import { TokenServiceError } from './token-service-error.ts';

/** What a relayed exchange gives its driver next: a command to forward, or the end. */
export type RelayEvent<T> =
  | { readonly kind: 'command'; readonly command: Uint8Array }
  | { readonly kind: 'done'; readonly value: T }
  | { readonly kind: 'error'; readonly error: unknown };

/** The error a suspended `transmit` rejects with when its session is abandoned. */
export class RelayAbortedError extends TokenServiceError {
  constructor() {
    super('ERR_TSP_STATE', 'the provisioning session was abandoned');
  }
}

/**
 * Runs an APDU exchange written as straight-line code (`body` calls `transmit` and awaits the
 * response, as `Scp11HostSession` does) across a relay that answers one HTTP call at a time: each
 * `transmit` suspends the body and hands its command to the driver; `respond` resumes it with the
 * card's response. Only one command is ever outstanding (ISO/IEC 7816-3 half duplex).
 */
export class ApduRelay<T> {
  #settle: ((event: RelayEvent<T>) => void) | undefined;
  #event: Promise<RelayEvent<T>>;
  #pending: { resolve(response: Uint8Array): void; reject(error: unknown): void } | undefined;
  #finished = false;
  #aborted = false;
  readonly #first: Promise<RelayEvent<T>>;

  constructor(body: (transmit: (command: Uint8Array) => Promise<Uint8Array>) => Promise<T>) {
    this.#event = this.#nextEvent();
    this.#first = this.#event;
    const transmit = (command: Uint8Array): Promise<Uint8Array> =>
      new Promise<Uint8Array>((resolve, reject) => {
        if (this.#finished || this.#aborted || this.#pending !== undefined) {
          reject(new RelayAbortedError());
          return;
        }
        this.#pending = { resolve, reject };
        this.#emit({ kind: 'command', command: command.slice() });
      });
    // The body starts at once; its first command (or its end) is the first event.
    body(transmit).then(
      (value) => this.#end({ kind: 'done', value }),
      (error: unknown) => this.#end({ kind: 'error', error }),
    );
  }

  #nextEvent(): Promise<RelayEvent<T>> {
    return new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  #emit(event: RelayEvent<T>): void {
    const settle = this.#settle;
    this.#event = this.#nextEvent();
    settle?.(event);
  }

  #end(event: RelayEvent<T>): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#emit(event);
  }

  /** The body's first command, or its end if it sent none. */
  first(): Promise<RelayEvent<T>> {
    return this.#first;
  }

  /** Resumes the body with the response to its outstanding command; resolves with what comes next. */
  respond(response: Uint8Array): Promise<RelayEvent<T>> {
    const pending = this.#pending;
    if (pending === undefined || this.#finished || this.#aborted)
      return Promise.resolve({ kind: 'error', error: new RelayAbortedError() });
    this.#pending = undefined;
    const next = this.#event;
    pending.resolve(response.slice());
    return next;
  }

  /** Abandons the exchange: a suspended `transmit` rejects, so the body unwinds and cleans up. */
  abort(): void {
    this.#aborted = true;
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(new RelayAbortedError());
  }

  /** True once the body has returned or thrown. */
  get finished(): boolean {
    return this.#finished;
  }
}
