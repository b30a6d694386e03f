import { toHex } from '@amulet/bytes';
import type { Sensitivity } from './message-spec.ts';

/** A value ready to show: the value itself, or a text that no longer holds it. */
export interface ShownValue {
  readonly text: string;
  readonly masked: boolean;
}

/**
 * Shows a text or binary value as its sensitivity allows (docs/iso8583.md, masking): public as
 * is (bytes as hex); pan as its first six and last four characters with '*' between (fewer
 * shown for short values); sensitive and secret as `[n characters masked]` or `[n bytes masked]`.
 * `reveal` shows everything.
 */
export function maskValue(value: string | Uint8Array, sensitivity: Sensitivity, reveal: boolean): ShownValue {
  const isText = typeof value === 'string';
  if (reveal || sensitivity === 'public') return { text: isText ? value : toHex(value), masked: false };
  if (sensitivity === 'pan' && isText) return { text: maskPan(value), masked: true };
  return { text: `[${value.length} ${isText ? 'characters' : 'bytes'} masked]`, masked: true };
}

/** PCI DSS requirement 3.4: at most the first six and the last four digits of a PAN stay visible. */
export function maskPan(pan: string): string {
  const n = pan.length;
  if (n >= 13) return pan.slice(0, 6) + '*'.repeat(n - 10) + pan.slice(n - 4);
  if (n > 4) return '*'.repeat(n - 4) + pan.slice(n - 4);
  return '*'.repeat(n);
}
