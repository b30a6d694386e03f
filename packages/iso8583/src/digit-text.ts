/**
 * The strings of short runs of decimal digits, made once each. Fields of up to four digits
 * (dates MMDD and YYMM, entry mode, card sequence number, currency and country codes, the MTI)
 * take few distinct values, and longer BCD values are put together from runs of four: looking
 * a run up here costs a fraction of making its string again on every message. At most 11,110
 * strings (every run of one to four digits), so memory stays bounded whatever the input.
 */
export const DIGIT_TEXT_MAX_DIGITS = 4;

/** Index = digit count (1-4), then the digits' value; filled as values are met. */
const DIGIT_TEXT: (string | undefined)[][] = Array.from({ length: DIGIT_TEXT_MAX_DIGITS + 1 }, (_, digits) =>
  // Array.from gives a packed array, which V8 reads without checking for holes.
  Array.from({ length: digits === 0 ? 0 : 10 ** digits }, () => undefined),
);

/** `value` (0 to 10^digits - 1) written with exactly `digits` digits (1-4), leading zeros kept. */
export function digitText(value: number, digits: number): string {
  const table = DIGIT_TEXT[digits]!;
  let text = table[value];
  if (text === undefined) {
    text = String(value).padStart(digits, '0');
    table[value] = text;
  }
  return text;
}
