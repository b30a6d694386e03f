import type { Clock } from './clock.ts';
import type { DeliveryPlan } from './fault-plan.ts';
import type { Link, LinkListener } from './link.ts';

/**
 * One end of an in-memory connection. Each message is copied, then delivered to the other end as
 * its fault plan says (lost, once, twice, each after its delay). A zero delay is delivered on the
 * microtask queue, in order; other delays on the injected clock.
 */
export class MemoryLink implements Link {
  readonly remoteAddress: string;
  readonly #plan: () => DeliveryPlan;
  readonly #clock: Clock;
  #peer: MemoryLink | undefined;
  #listener: LinkListener | undefined;
  #inbox: Uint8Array[] = [];
  #paused = false;
  #closed = false;
  #ending = false;
  #inTransit = 0;

  constructor(remoteAddress: string, plan: () => DeliveryPlan, clock: Clock) {
    this.remoteAddress = remoteAddress;
    this.#plan = plan;
    this.#clock = clock;
  }

  /** Two connected ends: what one writes, the other receives. */
  static pair(
    clientName: string,
    serverName: string,
    toServer: () => DeliveryPlan,
    toClient: () => DeliveryPlan,
    clock: Clock,
  ): [client: MemoryLink, server: MemoryLink] {
    const client = new MemoryLink(serverName, toServer, clock);
    const server = new MemoryLink(clientName, toClient, clock);
    client.#peer = server;
    server.#peer = client;
    return [client, server];
  }

  attach(listener: LinkListener): void {
    this.#listener = listener;
    if (this.#closed) listener.closed();
    else this.#flush();
  }

  write(message: Uint8Array): void {
    if (this.#closed || this.#ending) return;
    for (const delayMs of this.#plan()) {
      const copy = message.slice();
      this.#inTransit++;
      const arrive = () => this.#arrive(copy);
      if (delayMs === 0) queueMicrotask(arrive);
      else this.#clock.setTimeout(arrive, delayMs);
    }
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#flush();
  }

  end(): void {
    this.#ending = true;
    if (this.#inTransit === 0) this.destroy();
  }

  destroy(): void {
    this.#close();
    const peer = this.#peer;
    if (peer !== undefined) peer.#close();
  }

  #arrive(message: Uint8Array): void {
    this.#inTransit--;
    const peer = this.#peer;
    if (peer !== undefined && !peer.#closed && !this.#closed) {
      peer.#inbox.push(message);
      peer.#flush();
    }
    if (this.#ending && this.#inTransit === 0) this.destroy();
  }

  #flush(): void {
    while (!this.#paused && !this.#closed && this.#listener !== undefined) {
      const next = this.#inbox.shift();
      if (next === undefined) return;
      this.#listener.frame(next);
    }
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inbox = [];
    this.#listener?.closed();
  }
}
