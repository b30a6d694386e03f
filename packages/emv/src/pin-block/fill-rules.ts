import { drawRandom, type PinBlockFormat } from './pin-field.ts';

/** How one format fills the nibbles after the PIN, and which fill nibbles it accepts. */
export interface FillRule {
  /** For error messages: "F", "A to F"... */
  readonly description: string;
  readonly accepts: (nibble: number) => boolean;
  readonly make: (count: number, random: ((length: number) => Uint8Array) | undefined) => number[];
}

const constant = (nibble: number, description: string): FillRule => ({
  description,
  accepts: (value) => value === nibble,
  make: (count) => new Array<number>(count).fill(nibble),
});

/** ISO 9564-1:2017 9.3: fill digits of the 8-byte plain-text PIN field, per format. */
export const FILL_RULES: Readonly<Record<PinBlockFormat, FillRule>> = {
  // 9.3.2.2: format 0 fills with F.
  0: constant(0xf, 'F'),
  // 9.3.3: format 1 fills with a transaction field, any nibble, unique per transaction.
  1: {
    description: 'a hexadecimal nibble',
    accepts: () => true,
    make: (count, random) => Array.from(drawRandom(random, count, 1), (byte) => byte & 0x0f),
  },
  // 9.3.4: format 2 (ICC offline PIN) fills with F.
  2: constant(0xf, 'F'),
  // 9.3.5.2: format 3 fills with random values from A to F. One random byte modulo 6 per nibble:
  // A to D come up 43 times in 256, E and F 42, which barely changes how unlikely a repeated
  // fill is and does not touch the PIN's secrecy.
  3: {
    description: 'A to F',
    accepts: (value) => value >= 0xa,
    make: (count, random) => Array.from(drawRandom(random, count, 3), (byte) => 0xa + (byte % 6)),
  },
  // 9.4.2.2.2: format 4 fills the first half of its PIN field with A (the second half is random).
  4: constant(0xa, 'A'),
};
