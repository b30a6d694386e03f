import { AmuletError } from '@amulet/bytes';

/**
 * Thrown by the secure link. Codes (docs/protocols/secure-link.md, "Errors"):
 * - `ERR_LINK_MESSAGE`: a handshake message that does not parse or has the wrong type/version.
 * - `ERR_LINK_PEER`: the wearable's chain, signature or either side's key confirmation failed
 *   (`reason` says which check, never a value).
 * - `ERR_LINK_RECORD`: a record that was altered, replayed, reordered or cut; one fixed message.
 * - `ERR_LINK_TRUNCATED`: the transport ended before the peer's close record.
 * - `ERR_LINK_CLOSED`: the session is closed (after a failure or a close) and refuses all use.
 * - `ERR_LINK_LIMIT`: a record larger than the protocol allows, or the sequence space exhausted.
 */
export class LinkError extends AmuletError {
  readonly reason: string | undefined;

  constructor(code: string, message: string, reason?: string) {
    super(code, message);
    this.reason = reason;
  }
}
