export { cmac, createCmac, type PreparedCmac } from './cmac.ts';
export { macIso9797Algorithm1, macIso9797Algorithm3 } from './iso9797-mac.ts';
export { type KeyCheckValueOptions, keyCheckValue } from './key-check-value.ts';
export { type Iso9797Padding, padIso9797, unpadIso9797Method2 } from './pad-iso9797.ts';
