import { fromHex } from '@amulet/bytes';

/**
 * The two SubjectPublicKeyInfo encodings OpenSSL writes for an uncompressed EC point (RFC 5480
 * section 2: id-ecPublicKey with a namedCurve, then the BIT STRING 0x00 0x04 || X || Y), with each
 * curve's field prime and coefficient b (SEC 2 2.4.2 and 2.5.1; a = -3 for both).
 */
const CURVES = [
  {
    prefix: fromHex('3059301306072A8648CE3D020106082A8648CE3D030107034200'),
    size: 32,
    p: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  },
  {
    prefix: fromHex('3076301006072A8648CE3D020106052B81040022036200'),
    size: 48,
    p: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  },
] as const;

function bigFrom(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

/**
 * True only when `spki` is exactly a P-256 or P-384 key in the uncompressed form and its point
 * lies on the curve (x, y below p and y² = x³ - 3x + b mod p): a key OpenSSL imports without
 * complaint (cofactor 1, so any such point is a valid public key). False says nothing: the caller
 * imports the key now and lets OpenSSL decide, as it always did.
 */
export function isPlainEcPoint(spki: Uint8Array): boolean {
  for (const curve of CURVES) {
    if (spki.length !== curve.prefix.length + 1 + 2 * curve.size) continue;
    let same = true;
    for (let i = 0; i < curve.prefix.length && same; i++) same = spki[i] === curve.prefix[i];
    if (!same || spki[curve.prefix.length] !== 0x04) continue;
    const at = curve.prefix.length + 1;
    const x = bigFrom(spki.subarray(at, at + curve.size));
    const y = bigFrom(spki.subarray(at + curve.size));
    const { p, b } = curve;
    if (x >= p || y >= p) return false;
    return (y * y - (x * x * x - 3n * x + b)) % p === 0n;
  }
  return false;
}
