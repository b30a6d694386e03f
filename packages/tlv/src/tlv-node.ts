/**
 * One BER-TLV data object (EMV Book 3 Annex B). A primitive object (b6 of the first tag byte is
 * 0) carries `value`; a constructed one (b6 = 1) carries `children`. A constructed tag may carry
 * `value` instead when the decoder was told to keep its content opaque (`opaqueTags`).
 */
export interface TlvNode {
  /** Upper-case hex of the full tag bytes, e.g. '9F26', '70', 'DF8129'. */
  readonly tag: string;
  readonly value?: Uint8Array;
  readonly children?: readonly TlvNode[];
}

export interface TlvDecodeOptions {
  /** Deepest nesting of templates; top-level objects are level 1. Default 8. */
  readonly maxDepth?: number;
  /** Largest value length accepted, in bytes. Default 65,535. */
  readonly maxLength?: number;
  /**
   * Skip padding between objects: '00' bytes before, between and after objects (EMV Book 3
   * Annex B1) and a run of 'FF' bytes that lasts to the end of the enclosing data (ISO/IEC
   * 7816-4 5.2). 'FF' elsewhere starts a tag ('FF8105' is a valid private-class tag). Default true.
   */
  readonly allowTrailingPadding?: boolean;
  /**
   * Constructed tags whose content is kept as an unparsed `value` instead of being decoded,
   * for vendor templates that hold non-BER data (see docs/tlv.md). Default none.
   */
  readonly opaqueTags?: readonly string[];
}

export const DEFAULT_MAX_DEPTH = 8;
export const DEFAULT_MAX_LENGTH = 65_535;
