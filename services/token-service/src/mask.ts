/**
 * Masks card numbers wherever they might hide in a text: every run of 12 to 19 digits keeps at
 * most its first 6 and last 4 digits (PCI DSS 3.4). Used on anything that is logged or returned
 * in an error.
 */
export function maskDigits(text: string): string {
  return text.replace(
    /\d{12,19}/g,
    (run) => `${run.slice(0, 6)}${'*'.repeat(run.length - 10)}${run.slice(-4)}`,
  );
}

/** A PAN or DPAN for display: first 6, last 4. */
export function maskPan(pan: string): string {
  return pan.length < 11 ? '*'.repeat(pan.length) : maskDigits(pan);
}
