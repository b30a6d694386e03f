/**
 * A command APDU (ISO/IEC 7816-4 section 5.1). `data` is the command data field (absent or empty
 * for cases 1 and 2). `le` is Ne, the most response bytes expected: 1 to 256 in a short APDU,
 * 1 to 65,536 in an extended one; absent means no Le field (cases 1 and 3). `le: 0` is accepted
 * as shorthand for the maximum (Le byte 00, or 0000 when extended) and decodes as 256 or 65,536.
 */
export interface CommandApdu {
  readonly cla: number;
  readonly ins: number;
  readonly p1: number;
  readonly p2: number;
  readonly data?: Uint8Array;
  readonly le?: number;
}

/** A decoded command, with the case (ISO/IEC 7816-4 5.1, table 2) and whether it was extended. */
export type DecodedCommandApdu = CommandApdu & { readonly case: 1 | 2 | 3 | 4; readonly extended: boolean };

export const MAX_SHORT_LC = 255;
export const MAX_EXTENDED_LC = 65_535;
export const MAX_SHORT_LE = 256;
export const MAX_EXTENDED_LE = 65_536;

/** ISO/IEC 7816-4 5.1.2: INS values 6X and 9X are invalid (they would be procedure bytes or SW1). */
export function isValidIns(ins: number): boolean {
  return (ins & 0xf0) !== 0x60 && (ins & 0xf0) !== 0x90;
}
