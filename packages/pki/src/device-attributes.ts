import { concat } from '@amulet/bytes';
import { DER_TAG, derChildren, derContents, encodeDer, readDerTop } from './der.ts';
import { PkiError } from './pki-error.ts';

/** Where the secure element that holds the device key sits. */
export const SE_TYPES = ['embedded', 'integrated', 'removable', 'software'] as const;
export type SeType = (typeof SE_TYPES)[number];

/**
 * The device attributes Amulet's device CA writes into every device certificate, in the private
 * extension `amuletDeviceAttributes` (docs/root-of-trust.md):
 *
 *   DeviceAttributes ::= SEQUENCE {
 *     oemId     UTF8String (SIZE (1..64)),
 *     model     UTF8String (SIZE (1..64)),
 *     seType    UTF8String ("embedded" | "integrated" | "removable" | "software"),
 *     tenantId  UTF8String (SIZE (1..64)) }
 */
export interface DeviceAttributes {
  readonly oemId: string;
  readonly model: string;
  readonly seType: SeType;
  readonly tenantId: string;
}

const FIELD_PATTERN = /^[A-Za-z0-9 ._:-]{1,64}$/;
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Checks one identifier field (OEM, model, tenant, device serial): 1 to 64 safe characters. */
export function checkIdentifier(field: string, value: unknown): string {
  if (typeof value !== 'string' || !FIELD_PATTERN.test(value)) {
    throw new PkiError('ERR_PKI_ATTRIBUTE', `${field} must be 1 to 64 letters, digits, space or . _ : -`, {
      path: [field],
    });
  }
  return value;
}

function checkAttributes(attributes: DeviceAttributes): DeviceAttributes {
  checkIdentifier('oemId', attributes.oemId);
  checkIdentifier('model', attributes.model);
  checkIdentifier('tenantId', attributes.tenantId);
  if (!(SE_TYPES as readonly string[]).includes(attributes.seType)) {
    throw new PkiError('ERR_PKI_ATTRIBUTE', `seType must be one of ${SE_TYPES.join(', ')}`, {
      path: ['seType'],
    });
  }
  return attributes;
}

/** Encodes a UTF8String (X.690 section 8.23). */
export function encodeUtf8String(value: string): Uint8Array {
  return encodeDer(DER_TAG.utf8String, utf8.encode(value));
}

export function encodeDeviceAttributes(attributes: DeviceAttributes): Uint8Array {
  const a = checkAttributes(attributes);
  return encodeDer(
    DER_TAG.sequence,
    concat(
      encodeUtf8String(a.oemId),
      encodeUtf8String(a.model),
      encodeUtf8String(a.seType),
      encodeUtf8String(a.tenantId),
    ),
  );
}

/** Decodes a UTF8String element that must fill `bytes`. */
export function decodeUtf8String(bytes: Uint8Array, what: string): string {
  const element = readDerTop(bytes, DER_TAG.utf8String, what);
  try {
    return utf8Strict.decode(derContents(bytes, element));
  } catch (cause) {
    throw new PkiError('ERR_PKI_DER', `${what} is not valid UTF-8`, { cause });
  }
}

export function decodeDeviceAttributes(bytes: Uint8Array): DeviceAttributes {
  const top = readDerTop(bytes, DER_TAG.sequence, 'DeviceAttributes');
  const fields = derChildren(bytes, top);
  const names = ['oemId', 'model', 'seType', 'tenantId'] as const;
  if (fields.length !== names.length) {
    throw new PkiError('ERR_PKI_DER', `DeviceAttributes has ${fields.length} fields, expected 4`);
  }
  const values = fields.map((field, i) =>
    decodeUtf8String(bytes.subarray(field.start, field.end), `DeviceAttributes.${names[i]}`),
  );
  return checkAttributes({
    oemId: values[0]!,
    model: values[1]!,
    seType: values[2]! as SeType,
    tenantId: values[3]!,
  });
}
