export {
  type DeriveIccMasterKeyInput,
  derivationInput,
  deriveIccMasterKey,
  type IccKeyDerivationOption,
} from './derive-icc-master-key.ts';
export {
  atcDiversifier,
  deriveCommonSessionKey,
  deriveSessionKey,
  mastercardDiversifier,
  type SessionKeyMethod,
} from './derive-session-key.ts';
export { applyKeyVariant } from './key-variant.ts';
export { checkPanAndPsn, packDigits } from './pan-psn-digits.ts';
