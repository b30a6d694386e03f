import { describePath, Iso8583Error } from './iso8583-error.ts';

/** `cannot unpack field 2 at offset 21: ...`: where, never what. */
export function unpackError(
  path: readonly string[],
  offset: number,
  problem: string,
  cause?: unknown,
): Iso8583Error {
  return new Iso8583Error(
    'ERR_ISO8583_UNPACK',
    `cannot unpack ${describePath(path)} at offset ${offset}: ${problem}`,
    {
      path,
      offset,
      cause,
    },
  );
}

/** `cannot pack field 2: ...`. */
export function packError(path: readonly string[], problem: string, cause?: unknown): Iso8583Error {
  return new Iso8583Error('ERR_ISO8583_PACK', `cannot pack ${describePath(path)}: ${problem}`, {
    path,
    cause,
  });
}
