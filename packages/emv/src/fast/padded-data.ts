// Reading message words with ISO/IEC 9797-1 padding applied on the fly (method 1: zeros;
// method 2, and NIST SP 800-38B for CMAC: one 0x80 byte, then zeros), so no padded copy is made.

/** Byte `index` of the padded message: the data, then `padByte`, then zeros. */
function paddedByte(data: Uint8Array, index: number, padByte: number): number {
  if (index < data.length) return data[index]!;
  return index === data.length ? padByte : 0;
}

/** The big-endian word at `offset` of the padded message. */
export function paddedWord(data: Uint8Array, offset: number, padByte: number): number {
  if (offset + 4 <= data.length) {
    return (data[offset]! << 24) | (data[offset + 1]! << 16) | (data[offset + 2]! << 8) | data[offset + 3]!;
  }
  return (
    (paddedByte(data, offset, padByte) << 24) |
    (paddedByte(data, offset + 1, padByte) << 16) |
    (paddedByte(data, offset + 2, padByte) << 8) |
    paddedByte(data, offset + 3, padByte)
  );
}
