import { AmuletError } from '@amulet/bytes';

/**
 * Thrown by @amulet/pki for malformed input: a certificate, CSR, CRL or OCSP request that does
 * not parse, a name or attribute out of its limits. Codes:
 * - `ERR_PKI_DER`: bytes that are not the DER structure expected.
 * - `ERR_PKI_PEM`: text without the PEM block expected.
 * - `ERR_PKI_ALGORITHM`: a key or signature algorithm outside ECDSA P-256 / P-384.
 * - `ERR_PKI_CSR_SIGNATURE`: a CSR whose self-signature does not verify (one fixed message).
 * - `ERR_PKI_ATTRIBUTE`: a device attribute or name field out of its limits.
 * - `ERR_PKI_SIGNER`: a signer that returned something other than a DER ECDSA signature.
 */
export class PkiError extends AmuletError {}
