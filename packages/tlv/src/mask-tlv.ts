import { toHex } from '@amulet/bytes';
import { findDataObject } from './data-object.ts';

/** How one value is shown: upper-case hex, or a masked text that no longer holds the value. */
export interface MaskedValue {
  readonly text: string;
  readonly masked: boolean;
}

/**
 * Shows the value of one data object the way the dictionary marks it (docs/tlv.md, masking):
 * - public (and tags the dictionary does not know): the value as hex;
 * - a PAN (mask 'pan', e.g. 5A): its digits with all but the first six and the last four replaced
 *   by '*' (all but the last four below 13 digits, all of them up to 4 digits), pad 'F's dropped;
 * - track 2 data (mask 'track2', e.g. 57, 9F6B): the PAN masked the same way, the 'D' separator,
 *   then one '*' for every further digit (expiry, service code and discretionary data hidden);
 * - every other sensitive or secret value: `[n bytes masked]`.
 * With `reveal` every value is shown as hex.
 */
export function maskTlv(tag: string, value: Uint8Array, options: { reveal?: boolean } = {}): MaskedValue {
  const object = findDataObject(tag);
  if (options.reveal === true || object === undefined || object.sensitivity === 'public') {
    return { text: toHex(value), masked: false };
  }
  if (object.mask === 'pan') return { text: maskDigits(toHex(value).replace(/F+$/, '')), masked: true };
  if (object.mask === 'track2') {
    const digits = toHex(value);
    const separator = digits.indexOf('D');
    if (separator >= 0) {
      const hidden = '*'.repeat(digits.length - separator - 1);
      return { text: `${maskDigits(digits.slice(0, separator))}D${hidden}`, masked: true };
    }
  }
  return { text: `[${value.length} bytes masked]`, masked: true };
}

/** PCI DSS 3.4 style: at most the first six and the last four digits stay visible. */
function maskDigits(digits: string): string {
  const n = digits.length;
  if (n >= 13) return digits.slice(0, 6) + '*'.repeat(n - 10) + digits.slice(n - 4);
  if (n > 4) return '*'.repeat(n - 4) + digits.slice(n - 4);
  return '*'.repeat(n);
}
