// The emv package re-exports one sub-index per area; each area's files live in its folder.
export * from './cipher/index.ts';
export * from './cryptogram/index.ts';
export * from './fast/index.ts';
export * from './keys/index.ts';
export * from './luhn.ts';
export * from './mac/index.ts';
export * from './pin-block/index.ts';
export * from './tr31/index.ts';
