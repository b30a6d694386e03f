import { randomBytes } from 'node:crypto';

/**
 * A fresh certificate serial number: 16 random bytes, the top bit cleared (positive, RFC 5280
 * section 4.1.2.2) and the next one set (minimal encoding, exactly 16 bytes): 126 random bits.
 */
export function randomSerialNumber(random: (size: number) => Uint8Array = randomBytes): Uint8Array {
  const serial = Uint8Array.from(random(16));
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  return serial;
}
