import type { Session } from './types.ts';

/** Most sessions held; the oldest entry goes first when full. */
export const SESSION_CACHE_ENTRIES_MAX = 10_000;

/**
 * Sessions recently read from the store, by the SHA-256 of the credential (never the credential
 * itself), so that a busy companion does not cost a database read per request. An entry lives
 * `ttlMs` at most: a logout on this instance forgets it at once, one on another instance (several
 * wallets on one PostgreSQL) takes effect within `ttlMs`. The session's own expiry is checked on
 * every use by the caller, as for a store read.
 */
export class SessionCache {
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { readonly session: Session; readonly until: number }>();

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  get(idHash: string, nowMs: number): Session | undefined {
    const entry = this.#entries.get(idHash);
    if (entry === undefined) return undefined;
    if (entry.until <= nowMs) {
      this.#entries.delete(idHash);
      return undefined;
    }
    return entry.session;
  }

  set(idHash: string, session: Session, nowMs: number): void {
    if (this.#ttlMs <= 0) return;
    if (this.#entries.size >= SESSION_CACHE_ENTRIES_MAX && !this.#entries.has(idHash)) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(idHash, { session, until: nowMs + this.#ttlMs });
  }

  forget(idHash: string): void {
    this.#entries.delete(idHash);
  }

  get size(): number {
    return this.#entries.size;
  }
}
