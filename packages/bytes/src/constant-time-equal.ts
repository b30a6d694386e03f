/**
 * Compares two byte arrays in time that depends only on their lengths, never on where they
 * differ. Use it for every MAC, cryptogram, PIN verification value and key check.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}
