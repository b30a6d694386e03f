import { orderedId } from '@amulet/bytes';
import type { World } from './world.ts';

/**
 * Identifiers that sort by creation (`orderedId` of @amulet/bytes): the prefix, 12 hex digits of
 * a millisecond clock reading that never goes back (one more than the last when the clock has not
 * moved, so it is strictly increasing within a process) and 12 hex digits (48 bits) from the
 * random source. Rows keyed by them land at the end of their B-tree indexes instead of at random
 * leaves: a group commit writes a few hot pages instead of one random page per row and index. The
 * clock part tells no more than the token's `createdAt`, which requestors see anyway.
 */
export class OrderedIds {
  readonly #world: World;
  #last = 0;

  constructor(world: World) {
    this.#world = world;
  }

  next(prefix: string): string {
    const at = Math.max(this.#world.now().getTime(), this.#last + 1);
    this.#last = at;
    return orderedId(prefix, at, this.#world.random(6));
  }
}
