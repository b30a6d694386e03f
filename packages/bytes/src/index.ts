export { AmuletError, type AmuletErrorOptions, BytesError, isAmuletError } from './amulet-error.ts';
export { ByteReader } from './byte-reader.ts';
export { concat } from './concat.ts';
export { constantTimeEqual } from './constant-time-equal.ts';
export { fromHex, isHex, toHex } from './hex.ts';
export { orderedId } from './ordered-id.ts';
export { xor } from './xor.ts';
