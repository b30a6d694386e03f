import type { ServerResponse } from 'node:http';

/** One server-sent event (WHATWG HTML, "Server-sent events"). */
export interface PushEvent {
  readonly type: string;
  readonly data: Record<string, unknown>;
}

const SUBSCRIBERS_PER_CHANNEL_MAX = 16;

/**
 * In-process push: the companion (channel `user:<tenant>:<user>`) and a device, through its
 * companion (channel `device:<tenant>:<device>`), hold an SSE stream; events go to every stream
 * of the channel. Events carry ids, states and last fours, never a card number.
 */
export class EventHub {
  readonly #channels = new Map<string, Set<ServerResponse>>();
  #nextId = 1;

  static userChannel(tenantId: string, userId: string): string {
    return `user:${tenantId}:${userId}`;
  }
  static deviceChannel(tenantId: string, deviceId: string): string {
    return `device:${tenantId}:${deviceId}`;
  }

  /** Attaches an open response as a stream of the channel; false when the channel is full. */
  subscribe(channel: string, response: ServerResponse): boolean {
    let set = this.#channels.get(channel);
    if (set === undefined) {
      set = new Set();
      this.#channels.set(channel, set);
    }
    if (set.size >= SUBSCRIBERS_PER_CHANNEL_MAX) return false;
    set.add(response);
    response.on('close', () => {
      set.delete(response);
      if (set.size === 0) this.#channels.delete(channel);
    });
    return true;
  }

  publish(channel: string, event: PushEvent): void {
    const set = this.#channels.get(channel);
    const id = this.#nextId++;
    if (set === undefined) return;
    const frame = `id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
    for (const response of set) response.write(frame);
  }

  subscribers(channel: string): number {
    return this.#channels.get(channel)?.size ?? 0;
  }

  close(): void {
    for (const set of this.#channels.values()) for (const response of set) response.end();
    this.#channels.clear();
  }
}
