/**
 * The one base class for every error an Amulet package throws on purpose.
 *
 * Rules every subclass follows (STYLE.md, practice 5):
 * - `code` is stable (`ERR_TLV_LENGTH`), documented, and what callers branch on.
 * - `message` never contains a value from the input: no PAN, key, PIN or cryptogram,
 *   only positions, lengths, names of fields and tags.
 * - `path` names where in a structure the failure is (`['55', '9F26']`), `offset` the byte.
 */
export interface AmuletErrorOptions {
  readonly path?: readonly string[];
  readonly offset?: number;
  readonly cause?: unknown;
}

export class AmuletError extends Error {
  readonly code: string;
  readonly path: readonly string[] | undefined;
  readonly offset: number | undefined;

  constructor(code: string, message: string, options: AmuletErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.path = options.path;
    this.offset = options.offset;
  }
}

export function isAmuletError(value: unknown): value is AmuletError {
  return value instanceof AmuletError;
}

/** Thrown by the bytes helpers for malformed hex and out-of-bounds reads. */
export class BytesError extends AmuletError {}
