import type { FieldType } from './message-spec.ts';

/**
 * IBM code page 037 (EBCDIC) for the printable ASCII characters space to '~', in ASCII order.
 * Only these characters are accepted in EBCDIC fields, so every byte maps one way and back.
 */
const EBCDIC_037_PRINTABLE =
  '405a7f7b5b6c507d4d5d5c4e6b604b61f0f1f2f3f4f5f6f7f8f97a5e4c7e6e6f7cc1c2c3c4c5c6c7c8c9d1d2d3d4d5d6d7d8d9e2e3e4e5e6e7e8e9bae0bbb06d79818283848586878889919293949596979899a2a3a4a5a6a7a8a9c04fd0a1';

/** ASCII code -> EBCDIC byte for space..'~'; 0 elsewhere. */
export const asciiToEbcdic: Uint8Array = new Uint8Array(256);
/** EBCDIC byte -> ASCII code for the printable set; 0 elsewhere. */
export const ebcdicToAscii: Uint8Array = new Uint8Array(256);
for (let code = 0x20; code <= 0x7e; code++) {
  const byte = Number.parseInt(EBCDIC_037_PRINTABLE.slice((code - 0x20) * 2, (code - 0x20) * 2 + 2), 16);
  asciiToEbcdic[code] = byte;
  ebcdicToAscii[byte] = code;
}

/**
 * Flags (1 = allowed) over character codes 0-255 for the characters a field of `type` may hold
 * when its encoding writes characters (ascii, ebcdic). Track data accepts '=' and 'D' as the
 * field separator (ISO/IEC 7813).
 */
export function allowedCharacters(type: FieldType): Uint8Array {
  const flags = new Uint8Array(256);
  if (type === 'alphanumeric') flags.fill(1, 0x20, 0x7f);
  else {
    flags.fill(1, 0x30, 0x3a);
    if (type === 'track') {
      flags[0x3d] = 1; // '='
      flags[0x44] = 1; // 'D'
    }
  }
  return flags;
}

/**
 * Flags over nibble values 0-15 for BCD digits of `type`: 0-9, and for track data the separator
 * nibble D.
 */
export function allowedNibbles(type: FieldType): Uint8Array {
  const flags = new Uint8Array(16).fill(1, 0, 10);
  if (type === 'track') flags[0xd] = 1;
  return flags;
}
