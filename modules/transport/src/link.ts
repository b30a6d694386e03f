/** What a link tells the channel that owns it. */
export interface LinkListener {
  /** One whole message (the bytes between length headers, or a memory delivery). */
  frame(message: Uint8Array): void;
  /** The byte stream broke (bad header, oversize frame); the link closes right after. */
  malformed(error: unknown): void;
  /** Called once, when the link is closed for good. */
  closed(error?: unknown): void;
}

/**
 * One connection's byte pipe, below the codec: TCP (framed socket) or memory. Internal to the
 * module; the channel on top does decoding, matching and handlers.
 */
export interface Link {
  readonly remoteAddress: string | undefined;
  /** Starts delivering to `listener`; events that happened before are replayed. */
  attach(listener: LinkListener): void;
  write(message: Uint8Array): void;
  /** Stops delivering frames (backpressure, drain); they wait in the link or the OS. */
  pause(): void;
  resume(): void;
  /** Closes after what was written has gone out. */
  end(): void;
  /** Closes now. */
  destroy(): void;
}
