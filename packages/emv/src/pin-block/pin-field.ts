import { PinBlockError } from './pin-block-error.ts';

/** The ISO 9564-1 PIN block formats: 0, 1 and 3 (TDEA), 2 (ICC offline PIN), 4 (AES). */
export type PinBlockFormat = 0 | 1 | 2 | 3 | 4;

// ISO 9564-1:2017 8.1 and 9.1: a PIN has 4 to 12 digits; the length field N holds the count.
const PIN_LENGTH_MIN = 4;
const PIN_LENGTH_MAX = 12;
/** Nibbles of the 8-byte plain-text PIN field (the first half of format 4's 16-byte field). */
const FIELD_NIBBLES = 16;

/** Checks that `format` is one of `allowed`; the error says what the operation accepts. */
export function checkFormat<F extends PinBlockFormat>(
  format: unknown,
  allowed: readonly F[],
  operation: string,
): F {
  if (!(allowed as readonly unknown[]).includes(format)) {
    throw new PinBlockError(
      'ERR_PIN_BLOCK_FORMAT',
      `${operation} supports PIN block formats ${allowed.join(', ')}`,
    );
  }
  return format as F;
}

/** Checks a PIN to encode: 4 to 12 decimal digits. */
export function checkPin(pin: unknown): string {
  if (typeof pin !== 'string') throw new PinBlockError('ERR_PIN_DIGIT', 'PIN must be a string of digits');
  if (pin.length < PIN_LENGTH_MIN || pin.length > PIN_LENGTH_MAX) {
    throw new PinBlockError(
      'ERR_PIN_LENGTH',
      `PIN must be ${PIN_LENGTH_MIN} to ${PIN_LENGTH_MAX} digits, got ${pin.length}`,
    );
  }
  if (!/^[0-9]+$/.test(pin)) throw new PinBlockError('ERR_PIN_DIGIT', 'PIN must be decimal digits only');
  return pin;
}

/** Calls the injected random source and checks what it returns. */
export function drawRandom(
  random: ((length: number) => Uint8Array) | undefined,
  length: number,
  format: PinBlockFormat,
): Uint8Array {
  if (typeof random !== 'function') {
    throw new PinBlockError('ERR_PIN_BLOCK_RANDOM', `PIN block format ${format} needs a random source`);
  }
  const bytes = random(length);
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new PinBlockError('ERR_PIN_BLOCK_RANDOM', `the random source must return ${length} bytes`);
  }
  return bytes;
}

/** How many fill nibbles follow a PIN of `pinLength` digits in the 16-nibble field. */
export function fillCount(pinLength: number): number {
  return FIELD_NIBBLES - 2 - pinLength;
}

/**
 * ISO 9564-1:2017 9.3.2.2 (the same layout in 9.3.3 to 9.3.5 and 9.4.2.2.2): the 8-byte
 * plain-text PIN field C | N | P..P | fill, where C is the control field (9.3.1, the format
 * number), N the PIN length, P the PIN digits, and the fill nibbles depend on the format.
 */
export function buildPinField(control: PinBlockFormat, pin: string, fill: readonly number[]): Uint8Array {
  const nibbles = [control, pin.length, ...Array.from(pin, (digit) => digit.charCodeAt(0) - 48), ...fill];
  const field = new Uint8Array(FIELD_NIBBLES / 2);
  for (let i = 0; i < field.length; i++) field[i] = (nibbles[2 * i]! << 4) | nibbles[2 * i + 1]!;
  return field;
}

/**
 * Reads an 8-byte plain-text PIN field: checks the control field and the PIN length and digits,
 * and returns the PIN with its fill nibbles for the format's own fill rule.
 */
export function readPinField(control: PinBlockFormat, field: Uint8Array): { pin: string; fill: number[] } {
  const nibbles: number[] = [];
  for (let i = 0; i < FIELD_NIBBLES / 2; i++) nibbles.push(field[i]! >> 4, field[i]! & 0x0f);
  if (nibbles[0] !== control) {
    throw new PinBlockError('ERR_PIN_BLOCK_FORMAT', `PIN block control field is not format ${control}`, {
      offset: 0,
    });
  }
  const length = nibbles[1]!;
  if (length < PIN_LENGTH_MIN || length > PIN_LENGTH_MAX) {
    throw new PinBlockError(
      'ERR_PIN_LENGTH',
      `PIN block length field is outside ${PIN_LENGTH_MIN} to ${PIN_LENGTH_MAX}`,
      { offset: 0 },
    );
  }
  let pin = '';
  for (let i = 2; i < 2 + length; i++) {
    if (nibbles[i]! > 9) {
      throw new PinBlockError('ERR_PIN_DIGIT', `PIN block has a non-decimal PIN digit at nibble ${i}`, {
        offset: i >> 1,
      });
    }
    pin += String(nibbles[i]);
  }
  return { pin, fill: nibbles.slice(2 + length) };
}

/** Checks every fill nibble against the format's rule; the error names the first bad nibble. */
export function checkFill(
  fill: readonly number[],
  pinLength: number,
  allowed: (nibble: number) => boolean,
  rule: string,
): void {
  const bad = fill.findIndex((nibble) => !allowed(nibble));
  if (bad >= 0) {
    const position = 2 + pinLength + bad;
    throw new PinBlockError('ERR_PIN_BLOCK_FILL', `PIN block fill at nibble ${position} is not ${rule}`, {
      offset: position >> 1,
    });
  }
}

/** Checks that a block is a Uint8Array of the expected length. */
export function checkBlock(block: unknown, length: number): Uint8Array {
  if (!(block instanceof Uint8Array) || block.length !== length) {
    throw new PinBlockError('ERR_PIN_BLOCK_LENGTH', `PIN block must be ${length} bytes`);
  }
  return block;
}
